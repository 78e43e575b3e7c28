using System.Diagnostics;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// SIGKILL of <c>minidock pull</c> in the middle of a layer download (through <see cref="ThrottledProxy"/>, so the
/// download takes seconds) must leave a consistent store: every blob under blobs/ is named by the sha256 of its bytes,
/// no image is recorded, and a second pull succeeds.
/// </summary>
[Collection(BigLayerCollection.Name)]
public sealed class PullKillTests(BigLayerFixture fx, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan PartialWait = TimeSpan.FromSeconds(30);

    private readonly MinidockCli _cli = new(output, () => fx.Registry.ServerLog);

    public void Dispose() => _cli.Dispose();

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Pull_KilledMidDownload_LeavesOnlyVerifiedBlobsAndNoImage_ThenAPullSucceeds()
    {
        var reference = fx.ProxyReference(BigLayerFixture.BigRepoTag);
        var layer = fx.BigLayer;
        Assert.True(layer.Size > 30L * 1024 * 1024, $"the big layer is only {layer.Size} bytes");
        var partial = Path.Combine(_cli.IngestDir, RegistryFixture.Hex(layer.Digest) + ".partial");

        long killedAt;
        using (var pull = _cli.Start("pull", reference))
        {
            // Wait until the layer's partial file exists and has grown past 4 MiB (but is not complete).
            var sw = Stopwatch.StartNew();
            long first = -1;
            killedAt = -1;
            while (sw.Elapsed < PartialWait && !pull.HasExited)
            {
                var len = File.Exists(partial) ? new FileInfo(partial).Length : -1;
                if (len >= 0 && first < 0)
                {
                    first = len;
                }

                if (first >= 0 && len > first && len > 4 * 1024 * 1024)
                {
                    pull.Signal(Native.SIGKILL);
                    killedAt = len;
                    break;
                }

                Thread.Sleep(20);
            }

            Assert.True(killedAt > 0,
                $"the partial {partial} never grew (exited: {pull.HasExited}; ingest: {_cli.DescribeIngest()})\n" +
                $"stdout: {pull.StdoutSoFar}\nstderr: {pull.StderrSoFar}");
            var r = pull.Wait(TimeSpan.FromSeconds(10));
            Assert.True(r.ExitCode is 137 or -9 or 9, "the pull was not killed by SIGKILL: " + r.Describe());
        }

        output.WriteLine($"killed at {killedAt} of {layer.Size} bytes; ingest after kill: {_cli.DescribeIngest()}");

        // Consistency after the kill.
        var blobs = _cli.AssertAllBlobsVerify();
        output.WriteLine($"{blobs} verified blobs after the kill");
        Assert.False(_cli.HasBlob(layer.Digest), "the half-downloaded layer must not be published as a blob");
        Assert.Empty(_cli.ImagesJson());
        _cli.Fails125("image", "inspect", reference);

        var keptPartial = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        Assert.True(keptPartial <= layer.Size, $"partial is larger ({keptPartial}) than the layer ({layer.Size})");

        // A second pull completes the image.
        fx.Proxy.ResetCount();
        _cli.Ok("pull", reference);
        var transferred = fx.Proxy.BytesToClients;
        output.WriteLine(keptPartial > 0 && transferred < layer.Size
            ? $"second pull RESUMED: partial kept {keptPartial} bytes; {transferred} bytes came through the proxy (layer {layer.Size})"
            : $"second pull did not resume: partial kept {keptPartial} bytes; {transferred} bytes came through the proxy (layer {layer.Size})");

        var image = Assert.Single(_cli.ImagesJson());
        Assert.Equal($"127.0.0.1:{fx.Proxy.Port}/big", (string?)image["Repository"]);
        Assert.Equal(fx.Big.ShortId, (string?)image["ID"]);
        Assert.Equal(fx.Big.Digest, (string?)image["Digest"]);
        _cli.AssertAllBlobsVerify();
        Assert.True(_cli.HasBlob(layer.Digest), "the layer blob is missing after the second pull");
        Assert.True(_cli.HasBlob(fx.Big.ConfigDigest), "the config blob is missing after the second pull");
        Assert.False(File.Exists(partial), $"the partial is still there after a successful pull: {_cli.DescribeIngest()}");
    }
}
