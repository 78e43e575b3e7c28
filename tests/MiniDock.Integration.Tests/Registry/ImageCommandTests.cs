using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// The image commands after a real pull: <c>images [-q] [--digests]</c>, <c>tag</c>, <c>rmi</c>, <c>image inspect</c>,
/// <c>image prune</c>, <c>system df</c>; blob deletion is checked on disk (MINIDOCK_ROOT/data/blobs/sha256).
/// </summary>
public sealed partial class ImageCommandTests(RegistryFixture registry, ITestOutputHelper output) : IClassFixture<RegistryFixture>, IDisposable
{
    private static readonly object LabelledGate = new();

    private readonly MinidockCli _cli = new(output, () => registry.ServerLog);

    private PushedManifest Busybox => registry.Images.BusyboxOci;

    private string BusyboxRef => registry.Reference("busybox:oci");

    public void Dispose() => _cli.Dispose();

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void ImagesDigests_ShowsTheManifestDigest()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var lines = Lines(_cli.Ok("images", "--digests").Stdout);
        Assert.Contains("DIGEST", lines[0]);
        var row = Assert.Single(lines.Skip(1));
        var cols = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"{registry.Host}/busybox", cols[0]);
        Assert.Equal("oci", cols[1]);
        Assert.Equal(Busybox.Digest, cols[2]);
        Assert.Equal(Busybox.ShortId, cols[3]);

        // Without --digests the digest is not shown.
        Assert.DoesNotContain(Busybox.Digest, _cli.Ok("images").Stdout);
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void ImagesQuiet_PrintsTwelveHexIds()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("pull", "-q", registry.Reference("zstd:latest"));
        var ids = Lines(_cli.Ok("images", "-q").Stdout);
        Assert.All(ids, id => Assert.Matches(ShortIdPattern(), id));
        Assert.Equal(new[] { Busybox.ShortId, registry.Images.Zstd.ShortId }.Order(), ids.Order());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Tag_ThenImages_ShowsBothNamesWithOneId()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var tag = _cli.Ok("tag", BusyboxRef, "minidock-test/copy:v1");
        Assert.Equal("", tag.Stdout.Trim());

        var images = _cli.ImagesJson();
        Assert.Equal(2, images.Count);
        Assert.Contains(images, i => (string?)i["Repository"] == $"{registry.Host}/busybox" && (string?)i["Tag"] == "oci");
        Assert.Contains(images, i => (string?)i["Repository"] == "minidock-test/copy" && (string?)i["Tag"] == "v1");
        Assert.All(images, i => Assert.Equal(Busybox.ShortId, (string?)i["ID"]));
        Assert.Equal(Busybox.ShortId, Assert.Single(Lines(_cli.Ok("images", "-q").Stdout)));
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Rmi_OfOneOfTwoTags_OnlyUntagsAndKeepsTheBlobs()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("tag", BusyboxRef, "minidock-test/copy:v1");
        var before = _cli.Blobs();

        var lines = Lines(_cli.Ok("rmi", "minidock-test/copy:v1").Stdout);
        Assert.Equal(["Untagged: minidock-test/copy:v1"], lines);

        Assert.Equal(before, _cli.Blobs());
        _cli.AssertAllBlobsVerify();
        var image = Assert.Single(_cli.ImagesJson());
        Assert.Equal($"{registry.Host}/busybox", (string?)image["Repository"]);
        Assert.Equal(Busybox.ShortId, (string?)image["ID"]);
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Rmi_OfTheLastTag_DeletesTheImageAndItsBlobs()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var expected = BlobsOf(Busybox);
        Assert.Equal(expected.Order(), _cli.Blobs());

        var lines = Lines(_cli.Ok("rmi", BusyboxRef).Stdout);
        Assert.Equal([$"Untagged: {BusyboxRef}", $"Deleted: {Busybox.ConfigDigest}"], lines);

        Assert.Empty(_cli.ImagesJson());
        Assert.Empty(_cli.Blobs());
        _cli.Fails125("image", "inspect", BusyboxRef);
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Rmi_KeepsLayersSharedWithAnotherImage()
    {
        var labelled = PushLabelledBusybox();
        Assert.Equal(Busybox.Layers.Select(l => l.Digest), labelled.Layers.Select(l => l.Digest));
        Assert.NotEqual(Busybox.ConfigDigest, labelled.ConfigDigest);

        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("pull", "-q", registry.Reference("labelled:latest"));
        Assert.Equal(BlobsOf(Busybox).Union(BlobsOf(labelled)).Order(), _cli.Blobs());

        var lines = Lines(_cli.Ok("rmi", registry.Reference("labelled:latest")).Stdout);
        Assert.Contains($"Deleted: {labelled.ConfigDigest}", lines);

        // The labelled image's own blobs are gone; the shared layers and busybox's own blobs stay, intact.
        Assert.Equal(BlobsOf(Busybox).Order(), _cli.Blobs());
        _cli.AssertAllBlobsVerify();
        var image = Assert.Single(_cli.ImagesJson());
        Assert.Equal(Busybox.ShortId, (string?)image["ID"]);
        Assert.Equal(Busybox.ConfigDigest, (string?)_cli.Inspect(BusyboxRef)["Id"]);

        // Removing the last image then removes the shared layers too.
        _cli.Ok("rmi", BusyboxRef);
        Assert.Empty(_cli.Blobs());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Rmi_ById_OfAnImageWithTwoTags_NeedsForce()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("tag", BusyboxRef, "minidock-test/copy:v1");

        _cli.Fails125("rmi", Busybox.ShortId);
        Assert.Equal(2, _cli.ImagesJson().Count);

        var lines = Lines(_cli.Ok("rmi", "-f", Busybox.ShortId).Stdout);
        Assert.Equal(2, lines.Count(l => l.StartsWith("Untagged: ", StringComparison.Ordinal)));
        Assert.Equal($"Deleted: {Busybox.ConfigDigest}", lines[^1]);
        Assert.Empty(_cli.ImagesJson());
        Assert.Empty(_cli.Blobs());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void ImageInspect_HasIdRepoTagsAndLayersWithDiffIdsAndChainIds()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var j = _cli.Inspect(BusyboxRef);

        Assert.Equal(Busybox.ConfigDigest, (string?)j["Id"]);
        Assert.Equal(new[] { BusyboxRef }, j["RepoTags"]!.AsArray().Select(t => (string)t!).ToArray());
        Assert.Equal(Busybox.Digest, (string?)j["ManifestDigest"]);

        var layers = j["Layers"]!.AsArray().Select(l => l!.AsObject()).ToList();
        Assert.Equal(Busybox.Layers.Count, layers.Count);
        Assert.True(layers.Count >= 2, "busybox:oci has two layers");
        string? previousChain = null;
        for (var i = 0; i < layers.Count; i++)
        {
            Assert.Equal(Busybox.Layers[i].Digest, (string?)layers[i]["Digest"]);

            // DiffID = sha256 of the uncompressed layer, as stored on disk.
            var diffId = (string?)layers[i]["DiffID"];
            Assert.Equal(UncompressedDigest(Path.Combine(_cli.BlobDir, RegistryFixture.Hex(Busybox.Layers[i].Digest))), diffId);

            // ChainID(1) = DiffID(1); ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)).
            var expectedChain = previousChain is null
                ? diffId
                : RegistryImages.Sha256Digest(Encoding.ASCII.GetBytes(previousChain + " " + diffId));
            Assert.Equal(expectedChain, (string?)layers[i]["ChainID"]);
            previousChain = expectedChain;
        }

        Assert.Equal((string?)layers[0]["DiffID"], (string?)layers[0]["ChainID"]);
        Assert.NotEqual((string?)layers[1]["DiffID"], (string?)layers[1]["ChainID"]);

        // The config's diff_ids agree.
        var diffIds = j["Config"]?["rootfs"]?["diff_ids"]?.AsArray().Select(d => (string?)d).ToArray();
        Assert.Equal(layers.Select(l => (string)l["DiffID"]!).ToArray(), diffIds?.Select(d => d!).ToArray());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void ImagePrune_RemovesUntaggedImagesOnly()
    {
        var zstd = registry.Images.Zstd;
        var zstdRef = registry.Reference("zstd:latest");
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("pull", "-q", zstdRef);

        // Moving zstd:latest to busybox leaves the zstd image without a tag (dangling).
        _cli.Ok("tag", BusyboxRef, zstdRef);
        var images = _cli.ImagesJson();
        Assert.Equal(3, images.Count);
        Assert.Contains(images, i => (string?)i["Repository"] == "<none>" && (string?)i["Tag"] == "<none>" && (string?)i["ID"] == zstd.ShortId);

        var r = _cli.Ok("image", "prune");
        Assert.Contains($"deleted: {zstd.ConfigDigest}", r.Stdout);
        Assert.DoesNotContain(Busybox.ConfigDigest, r.Stdout);
        Assert.Contains("Total: 1 images deleted", r.Stdout);

        images = _cli.ImagesJson();
        Assert.Equal(2, images.Count);
        Assert.All(images, i => Assert.Equal(Busybox.ShortId, (string?)i["ID"]));
        Assert.Equal(BlobsOf(Busybox).Order(), _cli.Blobs());
        _cli.AssertAllBlobsVerify();

        // Nothing dangling left: a second prune deletes nothing.
        Assert.Contains("Total: 0 images deleted", _cli.Ok("image", "prune").Stdout);
        Assert.Equal(2, _cli.ImagesJson().Count);
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void ImagePruneAll_RemovesTaggedImagesToo()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var r = _cli.Ok("image", "prune", "-a");
        Assert.Contains($"deleted: {Busybox.ConfigDigest}", r.Stdout);
        Assert.Empty(_cli.ImagesJson());
        Assert.Empty(_cli.Blobs());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void SystemDf_ListsImagesWithTheirCount()
    {
        Assert.Equal("0", DfImagesColumns()[1]);
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("pull", "-q", registry.Reference("zstd:latest"));
        var cols = DfImagesColumns();
        Assert.Equal("2", cols[1]);
        Assert.NotEqual("0B", cols[2]);
    }

    [Theory]
    [Trait(PullTests.Needs, PullTests.Pull)]
    [InlineData("no-such-image:latest")]
    [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    public void Rmi_OfAnUnknownImage_Fails125(string reference)
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        var line = _cli.Fails125("rmi", reference);
        Assert.Contains("No such image", line);
        Assert.Single(_cli.ImagesJson());
        Assert.Equal(BlobsOf(Busybox).Order(), _cli.Blobs());
    }

    /// <summary>
    /// busybox:oci and busybox:v2s2 are one image (same config) under two manifests. Removing both tags must leave
    /// no blob behind, the manifest of the first pull included.
    /// </summary>
    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Rmi_OfAnImagePulledUnderTwoManifests_DeletesBothManifestBlobs()
    {
        _cli.Ok("pull", "-q", BusyboxRef);
        _cli.Ok("pull", "-q", registry.Reference("busybox:v2s2"));
        Assert.True(_cli.HasBlob(Busybox.Digest));
        Assert.True(_cli.HasBlob(registry.Images.BusyboxV2s2.Digest));

        _cli.Ok("rmi", BusyboxRef);
        _cli.Ok("rmi", registry.Reference("busybox:v2s2"));
        Assert.Empty(_cli.ImagesJson());
        var left = _cli.Blobs();
        Assert.True(left.Count == 0,
            $"blobs left after the image was deleted: {string.Join(", ", left)} " +
            $"(busybox:oci manifest = {Busybox.Digest}, busybox:v2s2 manifest = {registry.Images.BusyboxV2s2.Digest})");
    }

    private string[] DfImagesColumns()
    {
        var lines = Lines(_cli.Ok("system", "df").Stdout);
        Assert.StartsWith("TYPE", lines[0]);
        var row = Assert.Single(lines, l => l.StartsWith("Images ", StringComparison.Ordinal));
        return row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string[] BlobsOf(PushedManifest m) => [m.Digest, m.ConfigDigest, .. m.Layers.Select(l => l.Digest)];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string UncompressedDigest(string gzipPath)
    {
        using var fs = File.OpenRead(gzipPath);
        using var gz = new GZipStream(fs, CompressionMode.Decompress);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(gz));
    }

    /// <summary>
    /// Pushes <c>labelled:latest</c> to this class's registry (once): busybox:oci's layers with a config of its own
    /// (a label added by <c>umoci config</c> on a private copy of the shared layout).
    /// </summary>
    private PushedManifest PushLabelledBusybox()
    {
        lock (LabelledGate)
        {
            var work = registry.NewWorkDir("labelled");
            var layout = Path.Combine(work, "layout");
            CopyDir(RegistryImages.LayoutDir, layout);
            BigLayerFixture.Umoci(work, "config", "--image", $"{layout}:oci", "--tag", "labelled", "--config.label", "minidock.test.labelled=yes");
            registry.SkopeoOk("copy", "-q", "--dest-tls-verify=false", $"oci:{layout}:labelled", registry.DockerRef("labelled:latest"));
            return PushedManifest.Read(registry, "labelled", "latest");
        }
    }

    private static void CopyDir(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }

    [GeneratedRegex("^[0-9a-f]{12}$")]
    private static partial Regex ShortIdPattern();
}
