using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// Two <c>minidock pull</c> of the same image at once, sharing one MINIDOCK_ROOT: both succeed, the image is recorded
/// once, each layer is stored once and verifies.
/// </summary>
[Collection(BigLayerCollection.Name)]
public sealed class ConcurrentPullTests(BigLayerFixture fx, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan PullTimeout = TimeSpan.FromSeconds(90);

    private readonly MinidockCli _cli = new(output, () => fx.Registry.ServerLog);

    public void Dispose() => _cli.Dispose();

    /// <summary>The big layer through the slow proxy: the two downloads certainly overlap.</summary>
    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void TwoPullsAtOnce_OfTheBigImageThroughTheSlowProxy_BothSucceedAndStoreItOnce() =>
        PullTwiceAtOnce(fx.ProxyReference(BigLayerFixture.BigRepoTag), $"127.0.0.1:{fx.Proxy.Port}/big", "latest", fx.Big);

    /// <summary>The two-layer busybox directly from the registry (layers downloaded concurrently within each pull too).</summary>
    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void TwoPullsAtOnce_OfBusybox_BothSucceedAndStoreItOnce()
    {
        var busybox = PushedManifest.Read(fx.Registry, "busybox", "oci");
        PullTwiceAtOnce(fx.Registry.Reference("busybox:oci"), $"{fx.Registry.Host}/busybox", "oci", busybox);
    }

    private void PullTwiceAtOnce(string reference, string repository, string tag, PushedManifest m)
    {
        using var a = _cli.Start("pull", reference);
        using var b = _cli.Start("pull", reference);
        var ra = a.Wait(PullTimeout);
        var rb = b.Wait(PullTimeout);
        output.WriteLine(ra.Describe());
        output.WriteLine(rb.Describe());
        Assert.True(ra.ExitCode == 0, "first concurrent pull failed: " + ra.Describe() + "\n" + fx.Registry.ServerLog);
        Assert.True(rb.ExitCode == 0, "second concurrent pull failed: " + rb.Describe() + "\n" + fx.Registry.ServerLog);

        var image = Assert.Single(_cli.ImagesJson());
        Assert.Equal(repository, (string?)image["Repository"]);
        Assert.Equal(tag, (string?)image["Tag"]);
        Assert.Equal(m.ShortId, (string?)image["ID"]);
        Assert.Equal(m.Digest, (string?)image["Digest"]);
        Assert.Equal(m.ShortId, Assert.Single(_cli.Ok("images", "-q").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));

        // Each blob once (file names are unique by construction: check there is no stray copy of any layer elsewhere
        // under blobs/), present, and verified.
        _cli.AssertAllBlobsVerify();
        var blobs = _cli.Blobs();
        foreach (var layer in m.Layers)
        {
            Assert.Single(blobs, d => d == layer.Digest);
        }

        Assert.Contains(m.ConfigDigest, blobs);
        Assert.Contains(m.Digest, blobs);
        var expected = m.Layers.Select(l => l.Digest).Append(m.ConfigDigest).Append(m.Digest).ToHashSet();
        Assert.True(blobs.All(expected.Contains), "unexpected blobs: " + string.Join(", ", blobs.Where(d => !expected.Contains(d))));

        var partials = Directory.Exists(_cli.IngestDir) ? Directory.GetFiles(_cli.IngestDir, "*.partial") : [];
        Assert.True(partials.Length == 0, "partials left behind: " + _cli.DescribeIngest());
    }
}
