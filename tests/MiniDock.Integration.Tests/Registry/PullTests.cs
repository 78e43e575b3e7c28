using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// <c>minidock pull</c> against the real registry of <see cref="RegistryFixture"/>. The contract these tests hold it to:
/// <list type="bullet">
/// <item><c>minidock pull REF</c> exits 0 and prints progress; <c>pull -q REF</c> prints only the full reference.</item>
/// <item><c>minidock images --format json</c>: one JSON object per line with Repository, Tag, ID (12 hex), Digest.</item>
/// <item><c>MINIDOCK_ROOT=DIR</c> isolates all data (under DIR/data); each test has its own DIR.</item>
/// <item>a failed pull exits 125 with one line on stderr.</item>
/// <item>a registry on 127.0.0.1 speaks plain HTTP (as Docker treats 127.0.0.0/8 as insecure).</item>
/// </list>
/// Every test is marked <c>Needs=pull</c>: exclude them with <c>--filter 'Needs!=pull'</c> until the command exists.
/// </summary>
public sealed class PullTests(RegistryFixture registry, ITestOutputHelper output) : IClassFixture<RegistryFixture>, IDisposable
{
    public const string Needs = "Needs";

    public const string Pull = "pull";

    private static readonly TimeSpan PullTimeout = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-pull-").FullName;

    /// <summary>MINIDOCK_ROOT for this test: DIR/root (DIR also holds the command output files).</summary>
    private string Root => Path.Combine(_dir, "root");

    private RegistryImages Images => registry.Images;

    /// <summary>The image a pull of a multi-platform reference must pick on this host.</summary>
    private PushedManifest HostPlatform(PushedManifest index) =>
        RuntimeInformation.OSArchitecture == Architecture.Arm64 ? index.Child("linux/arm64/v8") : index.Child("linux/amd64");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"cleanup: could not remove {_dir}: {e.Message}");
        }
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_OciImage_SucceedsWithProgressAndImagesListsIt()
    {
        var m = Images.BusyboxOci;
        var r = MiniDockOk("pull", registry.Reference("busybox:oci"));
        Assert.NotEmpty(r.Stdout.Trim());

        var image = Assert.Single(ImagesJson());
        AssertImage(image, $"{registry.Host}/busybox", "oci", m.ShortId, m.Digest);
        var data = Path.Combine(Root, "data");
        Assert.True(Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data, "*", SearchOption.AllDirectories).Any(),
            $"pull stored nothing under MINIDOCK_ROOT/data ({data})");
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void PullQuiet_PrintsOnlyTheFullReference()
    {
        var r = MiniDockOk("pull", "-q", registry.Reference("busybox:oci"));
        Assert.Equal(registry.Reference("busybox:oci"), r.Stdout.TrimEnd('\n'));
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_DockerSchema2_GivesTheSameImageIdAsTheOciManifest()
    {
        MiniDockOk("pull", "-q", registry.Reference("busybox:oci"));
        MiniDockOk("pull", "-q", registry.Reference("busybox:v2s2"));

        var images = ImagesJson();
        Assert.Equal(2, images.Count);
        var v2s2 = images.Single(i => (string?)i["Tag"] == "v2s2");
        AssertImage(v2s2, $"{registry.Host}/busybox", "v2s2", Images.BusyboxV2s2.ShortId, Images.BusyboxV2s2.Digest);
        Assert.Equal(Images.BusyboxOci.ShortId, (string?)v2s2["ID"]);
    }

    [Theory]
    [Trait(Needs, Pull)]
    [InlineData("multi:latest")]
    [InlineData("multi:list")]
    public void Pull_MultiPlatform_PicksThisHostsPlatformWhereverItIsListed(string repoTag)
    {
        var index = Images.All[repoTag];
        var expected = HostPlatform(index);
        MiniDockOk("pull", "-q", registry.Reference(repoTag));

        var image = Assert.Single(ImagesJson());
        var tag = repoTag.Split(':')[1];
        Assert.Equal($"{registry.Host}/multi", (string?)image["Repository"]);
        Assert.Equal(tag, (string?)image["Tag"]);
        Assert.Equal(expected.ShortId, (string?)image["ID"]);

        // Docker reports the index's digest (the repo digest); the platform manifest's is accepted too.
        Assert.Contains((string?)image["Digest"], new[] { index.Digest, expected.Digest });
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_ZstdLayers_Succeeds()
    {
        var m = Images.Zstd;
        MiniDockOk("pull", registry.Reference("zstd:latest"));
        AssertImage(Assert.Single(ImagesJson()), $"{registry.Host}/zstd", "latest", m.ShortId, m.Digest);
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_ByDigest_Succeeds()
    {
        var m = Images.BusyboxOci;
        MiniDockOk("pull", registry.Reference($"busybox@{m.Digest}"));
        var image = Assert.Single(ImagesJson());
        Assert.Equal(m.ShortId, (string?)image["ID"]);
        Assert.Equal(m.Digest, (string?)image["Digest"]);
    }

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_Twice_IsIdempotent()
    {
        MiniDockOk("pull", "-q", registry.Reference("busybox:oci"));
        var again = MiniDockOk("pull", "-q", registry.Reference("busybox:oci"));
        Assert.Equal(registry.Reference("busybox:oci"), again.Stdout.TrimEnd('\n'));
        AssertImage(Assert.Single(ImagesJson()), $"{registry.Host}/busybox", "oci", Images.BusyboxOci.ShortId, Images.BusyboxOci.Digest);
    }

    [Theory]
    [Trait(Needs, Pull)]
    [InlineData("busybox:no-such-tag")]
    [InlineData("no-such-repo:latest")]
    [InlineData("busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Pull_OfSomethingTheRegistryLacks_Fails125WithOneLine(string repoTag) =>
        AssertPullFails(registry.Reference(repoTag));

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_FromARegistryThatIsNotThere_Fails125WithOneLine() =>
        AssertPullFails($"127.0.0.1:{UnusedPort()}/busybox:oci");

    [Fact]
    [Trait(Needs, Pull)]
    public void Pull_OfALayerWhoseBytesDoNotMatchItsDigest_Fails125AndStoresNoImage()
    {
        AssertPullFails(registry.Reference("corrupt:latest"));
        Assert.Empty(ImagesJson());
    }

    private void AssertPullFails(string reference)
    {
        var r = MiniDock("pull", reference);
        Assert.True(r.ExitCode == 125, $"pull of {reference} must fail with 125: " + r.Describe());
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "a failed pull says why on exactly one stderr line: " + r.Describe());
        Assert.Empty(ImagesJson());
    }

    private static void AssertImage(JsonNode image, string repository, string tag, string id, string digest)
    {
        Assert.Equal(repository, (string?)image["Repository"]);
        Assert.Equal(tag, (string?)image["Tag"]);
        Assert.Equal(id, (string?)image["ID"]);
        Assert.Equal(digest, (string?)image["Digest"]);
    }

    private List<JsonNode> ImagesJson()
    {
        var r = MiniDockOk("images", "--format", "json");
        var list = new List<JsonNode>();
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                list.Add(JsonNode.Parse(line)!);
            }
            catch (JsonException e)
            {
                Assert.Fail($"images --format json printed a line that is not JSON ({e.Message}): {line}\n{r.Describe()}");
            }
        }

        return list;
    }

    private CommandResult MiniDockOk(params string[] args)
    {
        var r = MiniDock(args);
        Assert.True(r.ExitCode == 0, "expected success: " + r.Describe() + "\n--- registry log ---\n" + registry.ServerLog);
        return r;
    }

    private CommandResult MiniDock(params string[] args)
    {
        var bin = Environment.GetEnvironmentVariable("MINIDOCK_BIN") is { Length: > 0 } fromEnv
            ? Path.GetFullPath(fromEnv)
            : Path.Combine(RuntimeFixture.RepoRoot, "bin", "minidock");
        Assert.True(File.Exists(bin), $"{bin} not found: build MiniDock first (make), or set MINIDOCK_BIN");
        var env = new Dictionary<string, string>
        {
            ["MINIDOCK_ROOT"] = Root,
            ["NO_PROXY"] = "127.0.0.1,localhost",
            ["no_proxy"] = "127.0.0.1,localhost",
        };
        Directory.CreateDirectory(Root);
        var r = ProcessRunner.Run(bin, args, PullTimeout, env, _dir);
        output.WriteLine(r.Describe());
        return r;
    }

    private static int UnusedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
