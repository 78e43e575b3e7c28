using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// Proves the registry fixture serves what it claims, using skopeo (and plain HTTP) as the client: no MiniDock needed.
/// </summary>
public sealed class RegistryFixtureTests(RegistryFixture registry, ITestOutputHelper output) : IClassFixture<RegistryFixture>
{
    private static readonly string[] ZstdMagic = ["28", "B5", "2F", "FD"];

    private RegistryImages Images => registry.Images;

    public static TheoryData<string> TaggedImages => ["busybox:oci", "busybox:v2s2", "multi:latest", "multi:list", "zstd:latest"];

    [Fact]
    public void Registry_AnswersV2OnLoopback()
    {
        Assert.StartsWith("127.0.0.1:", registry.Host);
        using var r = registry.Get("/v2/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("registry/2.0", r.Headers.GetValues("Docker-Distribution-Api-Version").Single());
    }

    [Theory]
    [MemberData(nameof(TaggedImages))]
    public void ManifestDigest_MatchesTheRegistrysDockerContentDigestAndContentType(string repoTag)
    {
        var m = Images.All[repoTag];
        var (repo, tag) = Split(repoTag);
        using var r = registry.Get($"/v2/{repo}/manifests/{tag}", MediaTypes.AllManifests);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(m.Digest, r.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(m.MediaType, r.Content.Headers.ContentType?.MediaType);
        using var body = new StreamReader(r.Content.ReadAsStream());
        Assert.Equal(m.Raw, body.ReadToEnd());
    }

    [Fact]
    public void BusyboxOci_IsAnOciManifestWithTwoGzipLayersAndNoMediaTypeField()
    {
        var m = Images.BusyboxOci;
        output.WriteLine(m.Raw);
        Assert.Equal(MediaTypes.OciManifest, m.MediaType);
        Assert.False(m.HasMediaTypeField, "umoci leaves the optional mediaType out: clients must go by Content-Type");
        Assert.Equal(MediaTypes.OciConfig, m.Config!.MediaType);
        Assert.Equal([MediaTypes.OciLayerGzip, MediaTypes.OciLayerGzip], m.Layers.Select(l => l.MediaType));

        var inspect = Inspect("busybox:oci");
        Assert.Equal("amd64", (string?)inspect["Architecture"]);
        Assert.Equal("linux", (string?)inspect["Os"]);
        Assert.Equal(m.Digest, (string?)inspect["Digest"]);
        Assert.Equal(m.Layers.Select(l => l.Digest), inspect["Layers"]!.AsArray().Select(l => (string)l!));
    }

    [Fact]
    public void BusyboxV2s2_HasDockerMediaTypesAndTheSameBlobsAsTheOciImage()
    {
        var m = Images.BusyboxV2s2;
        output.WriteLine(m.Raw);
        Assert.True(m.HasMediaTypeField);
        Assert.Equal(MediaTypes.DockerManifest, m.MediaType);
        Assert.Equal(MediaTypes.DockerConfig, m.Config!.MediaType);
        Assert.Equal([MediaTypes.DockerLayerGzip, MediaTypes.DockerLayerGzip], m.Layers.Select(l => l.MediaType));
        Assert.Equal(Images.BusyboxOci.Layers.Select(l => l.Digest), m.Layers.Select(l => l.Digest));
        Assert.Equal(Images.BusyboxOci.ConfigDigest, m.ConfigDigest);
        Assert.NotEqual(Images.BusyboxOci.Digest, m.Digest);
    }

    [Fact]
    public void BusyboxLayers_HoldBusyboxThenMotdAndAWhiteout()
    {
        var m = Images.BusyboxOci;
        var first = TarEntries(Blob("busybox", m.Layers[0].Digest));
        Assert.Equal(TarEntryType.RegularFile, first["bin/busybox"].EntryType);
        Assert.Equal(new FileInfo("/bin/busybox").Length, first["bin/busybox"].Length);
        Assert.Equal(TarEntryType.SymbolicLink, first["bin/sh"].EntryType);
        Assert.Equal("busybox", first["bin/sh"].LinkName);
        Assert.Contains(RegistryImages.RemovedFile, first.Keys);

        var second = TarEntries(Blob("busybox", m.Layers[1].Digest));
        output.WriteLine(string.Join("\n", second.Keys));
        Assert.Contains("etc/.wh.removeme", second.Keys);
        Assert.DoesNotContain("bin/busybox", second.Keys);
        using var motd = new StreamReader(second["etc/motd"].DataStream!);
        Assert.Equal(RegistryImages.Motd, motd.ReadToEnd());

        var config = JsonNode.Parse(Blob("busybox", m.ConfigDigest))!;
        Assert.Equal(
            m.Layers.Select(l => RegistryImages.Sha256Digest(Gunzip(Blob("busybox", l.Digest)))),
            config["rootfs"]!["diff_ids"]!.AsArray().Select(d => (string)d!));
    }

    [Fact]
    public void Multi_IsAnOciIndexWithArm64FirstAttestationAndAmd64Last()
    {
        var m = Images.Multi;
        output.WriteLine(m.Raw);
        Assert.Equal(MediaTypes.OciIndex, m.MediaType);
        Assert.Equal(["linux/arm64/v8", "unknown/unknown", "linux/amd64"], m.Manifests.Select(d => d.Platform));
        Assert.All(m.Manifests, d => Assert.Equal(MediaTypes.OciManifest, d.MediaType));
        Assert.Equal(Images.BusyboxOci.Digest, Images.MultiAmd64.Digest);
        Assert.Equal([MediaTypes.InToto], Images.MultiAttestation.Layers.Select(l => l.MediaType));
        Assert.Equal("attestation-manifest", (string?)JsonNode.Parse(m.Raw)!["manifests"]![1]!["annotations"]!["vnd.docker.reference.type"]);
        Assert.Equal("arm64", (string?)JsonNode.Parse(Blob("multi", Images.MultiArm64.ConfigDigest))!["architecture"]);
    }

    [Fact]
    public void MultiList_IsADockerManifestListOfDockerManifests()
    {
        var m = Images.MultiList;
        output.WriteLine(m.Raw);
        Assert.Equal(MediaTypes.DockerManifestList, m.MediaType);
        Assert.Equal(["linux/arm64/v8", "linux/amd64"], m.Manifests.Select(d => d.Platform));
        Assert.All(m.Manifests, d => Assert.Equal(MediaTypes.DockerManifest, d.MediaType));
        Assert.Equal(MediaTypes.DockerManifest, Images.MultiListAmd64.MediaType);
        Assert.Equal(Images.BusyboxV2s2.ConfigDigest, Images.MultiListAmd64.ConfigDigest);
        Assert.Equal(Images.BusyboxV2s2.Layers, Images.MultiListAmd64.Layers);
    }

    [Theory]
    [InlineData("multi:latest", "amd64")]
    [InlineData("multi:latest", "arm64")]
    [InlineData("multi:list", "amd64")]
    [InlineData("multi:list", "arm64")]
    public void OverrideArch_ResolvesToThatPlatformsManifest(string repoTag, string arch)
    {
        var index = Images.All[repoTag];
        var expected = arch == "amd64" ? index.Child("linux/amd64") : index.Child("linux/arm64/v8");
        var dir = registry.NewWorkDir("arch");
        registry.SkopeoOk("copy", "-q", "--src-tls-verify=false", "--override-os", "linux", "--override-arch", arch,
            registry.DockerRef(repoTag), $"dir:{dir}");
        Assert.Equal(expected.Digest, RegistryImages.Sha256Digest(File.ReadAllBytes(Path.Combine(dir, "manifest.json"))));

        var inspect = Inspect(repoTag, "--override-os", "linux", "--override-arch", arch);
        Assert.Equal(arch, (string?)inspect["Architecture"]);
        Assert.Equal(expected.Layers.Select(l => l.Digest), inspect["Layers"]!.AsArray().Select(l => (string)l!));
    }

    [Fact]
    public void Zstd_LayersAreZstdFramesWhoseContentMatchesTheDiffIds()
    {
        var m = Images.Zstd;
        output.WriteLine(m.Raw);
        Assert.Equal(MediaTypes.OciManifest, m.MediaType);
        Assert.Equal([MediaTypes.OciLayerZstd, MediaTypes.OciLayerZstd], m.Layers.Select(l => l.MediaType));
        var config = JsonNode.Parse(Blob("zstd", m.ConfigDigest))!;
        Assert.Equal("zstd", (string?)config["config"]!["Labels"]![RegistryImages.ZstdLabel]);
        Assert.NotEqual(Images.BusyboxOci.ShortId, m.ShortId);

        var work = registry.NewWorkDir("zstd");
        var diffIds = new List<string>();
        foreach (var layer in m.Layers)
        {
            var bytes = Blob("zstd", layer.Digest);
            Assert.Equal(ZstdMagic, bytes.Take(4).Select(b => b.ToString("X2")));
            var path = Path.Combine(work, RegistryFixture.Hex(layer.Digest));
            File.WriteAllBytes(path, bytes);
            var d = ProcessRunner.Run("zstd", ["-q", "-d", "-f", path, "-o", path + ".tar"], RegistryFixture.CommandTimeout, ioDir: work);
            Assert.True(d.ExitCode == 0, d.Describe());
            diffIds.Add(RegistryImages.Sha256Digest(File.ReadAllBytes(path + ".tar")));
        }

        Assert.Equal(config["rootfs"]!["diff_ids"]!.AsArray().Select(x => (string)x!), diffIds);
        var busyboxConfig = JsonNode.Parse(Blob("busybox", Images.BusyboxOci.ConfigDigest))!;
        Assert.Equal(busyboxConfig["rootfs"]!.ToJsonString(), config["rootfs"]!.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(TaggedImages))]
    public void CopyToDir_EveryBlobMatchesItsDigest(string repoTag)
    {
        var m = Images.All[repoTag];
        var dir = registry.NewWorkDir("copy");
        string[] all = m.IsIndex ? ["--all"] : [];
        registry.SkopeoOk(["copy", "-q", "--src-tls-verify=false", .. all, registry.DockerRef(repoTag), $"dir:{dir}"]);
        Assert.Equal(m.Digest, RegistryImages.Sha256Digest(File.ReadAllBytes(Path.Combine(dir, "manifest.json"))));

        var expectedBlobs = new HashSet<string>();
        foreach (var image in m.IsIndex ? m.Children.Values : [m])
        {
            expectedBlobs.Add(image.ConfigDigest);
            expectedBlobs.UnionWith(image.Layers.Select(l => l.Digest));
            if (m.IsIndex)
            {
                var instance = Path.Combine(dir, RegistryFixture.Hex(image.Digest) + ".manifest.json");
                Assert.Equal(image.Digest, RegistryImages.Sha256Digest(File.ReadAllBytes(instance)));
            }
        }

        var blobs = Directory.GetFiles(dir).Where(f => Path.GetFileName(f).Length == 64).ToList();
        foreach (var blob in blobs)
        {
            using var s = File.OpenRead(blob);
            Assert.Equal("sha256:" + Path.GetFileName(blob), RegistryImages.Sha256Digest(s));
        }

        Assert.Equal(expectedBlobs.Order(), blobs.Select(b => "sha256:" + Path.GetFileName(b)).Order());
    }

    [Fact]
    public void Corrupt_RegistryServesWrongBytesAndSkopeoRefusesThem()
    {
        var layer = Images.Corrupt.Layers.Single();
        var served = Blob("corrupt", layer.Digest);
        Assert.Equal(layer.Size, served.Length);
        Assert.NotEqual(layer.Digest, RegistryImages.Sha256Digest(served));

        var dir = registry.NewWorkDir("corrupt");
        var r = registry.Skopeo("copy", "-q", "--src-tls-verify=false", registry.DockerRef("corrupt:latest"), $"dir:{dir}");
        output.WriteLine(r.Describe());
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("digest", r.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    private static (string Repo, string Tag) Split(string repoTag)
    {
        var i = repoTag.LastIndexOf(':');
        return (repoTag[..i], repoTag[(i + 1)..]);
    }

    private JsonNode Inspect(string repoTag, params string[] extra)
    {
        var r = registry.SkopeoOk(["inspect", "--tls-verify=false", .. extra, registry.DockerRef(repoTag)]);
        return JsonNode.Parse(r.Stdout)!;
    }

    private byte[] Blob(string repo, string digest)
    {
        using var r = registry.Get($"/v2/{repo}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var body = new MemoryStream();
        r.Content.ReadAsStream().CopyTo(body);
        return body.ToArray();
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>The entries of a gzip'd tar by name (leading "./" and trailing "/" trimmed), data copied.</summary>
    private static Dictionary<string, TarEntry> TarEntries(byte[] gz)
    {
        var entries = new Dictionary<string, TarEntry>();
        using var reader = new TarReader(new MemoryStream(Gunzip(gz)));
        while (reader.GetNextEntry(copyData: true) is { } e)
        {
            var name = e.Name.StartsWith("./", StringComparison.Ordinal) ? e.Name[2..] : e.Name;
            entries[name.TrimEnd('/')] = e;
        }

        return entries;
    }
}
