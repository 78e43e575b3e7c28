using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// Runs <c>bin/minidock</c> (or <c>$MINIDOCK_BIN</c>) with <c>MINIDOCK_ROOT</c> set to a private temp dir, and reads
/// back what it left on disk (DIR/root/data: blobs/sha256/&lt;hex&gt;, ingest/). One instance per test; dispose to
/// remove the dir.
/// </summary>
public sealed class MinidockCli : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _output;
    private readonly Func<string> _context;

    public MinidockCli(ITestOutputHelper output, Func<string>? context = null)
    {
        _output = output;
        _context = context ?? (() => "");
        Dir = Directory.CreateTempSubdirectory("minidock-cli-").FullName;
        Directory.CreateDirectory(Root);
    }

    /// <summary>Scratch dir (command output files, extra DOCKER_CONFIG dirs).</summary>
    public string Dir { get; }

    /// <summary>MINIDOCK_ROOT.</summary>
    public string Root => Path.Combine(Dir, "root");

    public string DataDir => Path.Combine(Root, "data");

    public string BlobDir => Path.Combine(DataDir, "blobs", "sha256");

    public string IngestDir => Path.Combine(DataDir, "ingest");

    /// <summary>Extra environment for every command (e.g. DOCKER_CONFIG).</summary>
    public Dictionary<string, string> Env { get; } = new();

    /// <summary>
    /// A command line that every command runs under (e.g. <c>nsenter --net=/run/netns/NAME --</c>): the binary and
    /// its arguments are appended to it. Empty (the default): the binary runs directly. Dispose uses it too.
    /// </summary>
    public string[] Prefix { get; set; } = [];

    public static string Binary =>
        Environment.GetEnvironmentVariable("MINIDOCK_BIN") is { Length: > 0 } fromEnv
            ? Path.GetFullPath(fromEnv)
            : Path.Combine(RuntimeFixture.RepoRoot, "bin", "minidock");

    public CommandResult Run(params string[] args) => Run(DefaultTimeout, args);

    public CommandResult Run(TimeSpan timeout, params string[] args)
    {
        var (file, argv) = CommandLine(args);
        var r = ProcessRunner.Run(file, argv, timeout, CommandEnv(), Dir);
        _output.WriteLine(r.Describe());
        return r;
    }

    /// <summary>Starts minidock in the background (stdout/stderr to files); the caller waits or signals it.</summary>
    public RunningCommand Start(params string[] args)
    {
        var (file, argv) = CommandLine(args);
        return new(file, argv, CommandEnv(), Dir);
    }

    public CommandResult Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, "expected success: " + r.Describe() + Context());
        return r;
    }

    /// <summary>Asserts exit 125 with exactly one line on stderr; returns that line.</summary>
    public string Fails125(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 125, "expected exit 125: " + r.Describe() + Context());
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "a failure says why on exactly one stderr line: " + r.Describe());
        return lines[0];
    }

    /// <summary><c>images --format json</c>, one object per line.</summary>
    public List<JsonObject> ImagesJson()
    {
        var r = Ok("images", "--format", "json");
        var list = new List<JsonObject>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                list.Add(JsonNode.Parse(line)!.AsObject());
            }
            catch (JsonException e)
            {
                Assert.Fail($"images --format json printed a line that is not JSON ({e.Message}): {line}\n{r.Describe()}");
            }
        }

        return list;
    }

    /// <summary><c>image inspect REF</c>: the single object of the JSON array.</summary>
    public JsonObject Inspect(string reference)
    {
        var r = Ok("image", "inspect", reference);
        var array = JsonNode.Parse(r.Stdout)!.AsArray();
        return Assert.Single(array)!.AsObject();
    }

    /// <summary>Digests ("sha256:HEX") of the files under blobs/sha256 (empty when the dir does not exist).</summary>
    public IReadOnlyList<string> Blobs() =>
        Directory.Exists(BlobDir)
            ? [.. Directory.EnumerateFiles(BlobDir).Select(p => "sha256:" + Path.GetFileName(p)).Order(StringComparer.Ordinal)]
            : [];

    public bool HasBlob(string digest) => File.Exists(Path.Combine(BlobDir, RegistryFixture.Hex(digest)));

    /// <summary>Every file under blobs/ (recursively) is named by the sha256 of its content; returns how many.</summary>
    public int AssertAllBlobsVerify()
    {
        if (!Directory.Exists(BlobDir))
        {
            return 0;
        }

        var bad = new List<string>();
        var count = 0;
        foreach (var path in Directory.EnumerateFiles(Path.Combine(DataDir, "blobs"), "*", SearchOption.AllDirectories))
        {
            count++;
            using var fs = File.OpenRead(path);
            var actual = Convert.ToHexStringLower(SHA256.HashData(fs));
            if (Path.GetFileName(path) != actual || Path.GetDirectoryName(path) != BlobDir)
            {
                bad.Add($"{path} (size {fs.Length}) hashes to {actual}");
            }
        }

        Assert.True(bad.Count == 0, "blobs that do not match their names:\n" + string.Join("\n", bad));
        return count;
    }

    /// <summary>Files under ingest/ with their sizes (for messages).</summary>
    public string DescribeIngest() =>
        Directory.Exists(IngestDir)
            ? string.Join(", ", Directory.EnumerateFiles(IngestDir).Select(p => $"{Path.GetFileName(p)}={new FileInfo(p).Length}"))
            : "(no ingest dir)";

    public void Dispose()
    {
        // Containers first (their monitors, cgroups and overlay mounts), then any mount still under Dir.
        if (File.Exists(Path.Combine(DataDir, "containers.db")))
        {
            var ids = Run(TimeSpan.FromSeconds(60), "ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0)
            {
                Run(TimeSpan.FromSeconds(60), ["rm", "-f", "-v", .. ids]);
            }
        }

        foreach (var m in File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(Dir + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Length))
        {
            _output.WriteLine($"cleanup: {m} was still mounted");
            ProcessRunner.Run("umount", ["-l", m], TimeSpan.FromSeconds(10));
        }

        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _output.WriteLine($"cleanup: could not remove {Dir}: {e.Message}");
        }
    }

    private string Context()
    {
        var c = _context();
        return c.Length > 0 ? "\n--- context ---\n" + c : "";
    }

    private Dictionary<string, string> CommandEnv()
    {
        var env = new Dictionary<string, string>
        {
            ["MINIDOCK_ROOT"] = Root,
            ["NO_PROXY"] = "127.0.0.1,localhost",
            ["no_proxy"] = "127.0.0.1,localhost",
        };
        foreach (var (k, v) in Env)
        {
            env[k] = v;
        }

        return env;
    }

    private (string File, string[] Args) CommandLine(string[] args) =>
        Prefix.Length == 0 ? (CheckedBinary(), args) : (Prefix[0], [.. Prefix[1..], CheckedBinary(), .. args]);

    private static string CheckedBinary()
    {
        var bin = Binary;
        Assert.True(File.Exists(bin), $"{bin} not found: build MiniDock first (make), or set MINIDOCK_BIN");
        return bin;
    }
}
