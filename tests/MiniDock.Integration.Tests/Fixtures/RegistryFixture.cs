using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// A real OCI distribution registry (Debian's <c>docker-registry</c>, distribution v2.8) on 127.0.0.1 with a free port,
/// no auth and no TLS, storing under a private temp dir, filled once with the images of <see cref="RegistryImages"/>
/// (built by umoci/skopeo or written by hand, never by MiniDock). Use it as an xunit class fixture: one registry per
/// test class. <see cref="Dispose"/> kills the registry and deletes its temp dir, whether or not the tests passed;
/// a constructor that fails half-way cleans up too.
/// </summary>
public sealed class RegistryFixture : IDisposable
{
    public const string RegistryBinary = "docker-registry";

    /// <summary>Bound on every skopeo/umoci call and on the registry's start-up.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    /// <summary>No proxy, ever: the network is closed except loopback.</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Go's proxy logic already skips loopback; this makes it explicit for skopeo.</summary>
    private static readonly Dictionary<string, string> ToolEnv = new()
    {
        ["NO_PROXY"] = "127.0.0.1,localhost",
        ["no_proxy"] = "127.0.0.1,localhost",
    };

    private readonly string? _authYaml;

    private RunningCommand? _server;

    public RegistryFixture()
        : this(authYaml: null, pushImages: true)
    {
    }

    /// <summary>A registry with an extra config section (e.g. <c>auth:</c>), filled with the images or left empty.</summary>
    internal RegistryFixture(string? authYaml, bool pushImages)
    {
        _authYaml = authYaml;
        TempDir = Directory.CreateTempSubdirectory("minidock-registry-").FullName;
        StorageRoot = Path.Combine(TempDir, "storage");
        try
        {
            Start();
            Images = pushImages ? RegistryImages.Push(this) : null!;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>"127.0.0.1:PORT": what goes in front of a repository in an image reference.</summary>
    public string Host { get; private set; } = "";

    public int Port { get; private set; }

    /// <summary>http://127.0.0.1:PORT</summary>
    public Uri BaseUri => new($"http://{Host}");

    /// <summary>Private scratch dir (config.yml, storage, registry logs, skopeo work dirs).</summary>
    public string TempDir { get; }

    /// <summary>The registry's filesystem storage root.</summary>
    public string StorageRoot { get; }

    /// <summary>What was pushed, with digests read back from the registry (not set on an empty auth registry).</summary>
    public RegistryImages Images { get; }

    /// <summary>The registry's stderr so far (for failure messages).</summary>
    public string ServerLog => _server?.StderrSoFar ?? "";

    /// <summary>"docker://127.0.0.1:PORT/REPO:TAG" (or REPO@DIGEST) for skopeo.</summary>
    public string DockerRef(string repoAndTagOrDigest) => $"docker://{Host}/{repoAndTagOrDigest}";

    /// <summary>"127.0.0.1:PORT/REPO:TAG" as a pull client spells it.</summary>
    public string Reference(string repoAndTagOrDigest) => $"{Host}/{repoAndTagOrDigest}";

    /// <summary>Where the registry keeps a blob's bytes (filesystem driver layout of distribution v2).</summary>
    public string BlobDataPath(string digest)
    {
        var hex = Hex(digest);
        return Path.Combine(StorageRoot, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    /// <summary>A new empty directory under the fixture's temp dir.</summary>
    public string NewWorkDir(string name) =>
        Directory.CreateDirectory(Path.Combine(TempDir, "work", $"{name}-{Guid.NewGuid().ToString("N")[..8]}")).FullName;

    /// <summary><c>skopeo --insecure-policy ARGS...</c> (no signature policy: these images are unsigned by design).</summary>
    public static CommandResult Skopeo(string ioDir, params string[] args) =>
        ProcessRunner.Run("skopeo", ["--insecure-policy", .. args], CommandTimeout, ToolEnv, ioDir);

    public CommandResult Skopeo(params string[] args) => Skopeo(TempDir, args);

    public CommandResult SkopeoOk(params string[] args)
    {
        var r = Skopeo(args);
        Assert.True(r.ExitCode == 0, "skopeo failed: " + r.Describe() + "\n--- registry log ---\n" + ServerLog);
        return r;
    }

    /// <summary><c>skopeo inspect --raw --tls-verify=false docker://HOST/REF</c>: the manifest's exact bytes.</summary>
    public string InspectRaw(string repoAndTagOrDigest) =>
        SkopeoOk("inspect", "--raw", "--tls-verify=false", DockerRef(repoAndTagOrDigest)).Stdout;

    /// <summary>GET http://HOST/PATH with the given Accept types (none: the registry's default).</summary>
    public HttpResponseMessage Get(string path, params string[] accept) => Send(HttpMethod.Get, path, accept);

    public HttpResponseMessage Head(string path, params string[] accept) => Send(HttpMethod.Head, path, accept);

    public static string Hex(string digest) =>
        digest.StartsWith("sha256:", StringComparison.Ordinal) && digest.Length == 71
            ? digest[7..]
            : throw new ArgumentException($"not a sha256 digest: {digest}", nameof(digest));

    public void Dispose()
    {
        _server?.Dispose();
        _server = null;
        try
        {
            Directory.Delete(TempDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to report to: class fixtures have no test output. The dir is under /tmp.
        }
    }

    private HttpResponseMessage Send(HttpMethod method, string path, string[] accept)
    {
        using var req = new HttpRequestMessage(method, new Uri(BaseUri, path));
        foreach (var a in accept)
        {
            req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(a));
        }

        return Http.Send(req);
    }

    /// <summary>Starts the registry on a free port (a few tries: the port is free when picked, not when bound).</summary>
    private void Start()
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Port = FreePort();
            Host = $"127.0.0.1:{Port}";
            var config = Path.Combine(TempDir, "config.yml");
            File.WriteAllText(config, ConfigYaml(StorageRoot, Host) + (_authYaml ?? ""));
            var server = new RunningCommand(RegistryBinary, ["serve", config], ToolEnv, TempDir);
            var why = WaitUntilServing(server);
            if (why is null)
            {
                _server = server;
                return;
            }

            failures.Add($"attempt {attempt + 1} on {Host}: {why}\n{server.StderrSoFar}");
            server.Dispose();
        }

        throw new InvalidOperationException("the registry did not start:\n" + string.Join("\n", failures));
    }

    /// <summary>Null once GET /v2/ answers 200; otherwise why not (the server exited, or the bounded wait ran out).</summary>
    private string? WaitUntilServing(RunningCommand server)
    {
        var sw = Stopwatch.StartNew();
        string last = "no answer yet";
        while (sw.Elapsed < StartTimeout)
        {
            if (server.HasExited)
            {
                return "the registry exited";
            }

            try
            {
                using var r = Get("/v2/");
                if (r.StatusCode == HttpStatusCode.OK || (_authYaml is not null && r.StatusCode == HttpStatusCode.Unauthorized))
                {
                    return null;
                }

                last = $"GET /v2/ answered {(int)r.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException e)
            {
                last = e.Message;
            }

            Thread.Sleep(50);
        }

        return $"not serving after {StartTimeout.TotalSeconds:F0} s ({last})";
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        try
        {
            return ((IPEndPoint)l.LocalEndpoint).Port;
        }
        finally
        {
            l.Stop();
        }
    }

    private static string ConfigYaml(string storage, string addr) => $"""
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: {storage}
          delete:
            enabled: true
          maintenance:
            uploadpurging:
              enabled: false
        http:
          addr: {addr}

        """;
}
