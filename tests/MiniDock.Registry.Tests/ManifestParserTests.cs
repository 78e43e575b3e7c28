using System.Text;

namespace MiniDock.Registry.Tests;

public sealed class ManifestParserTests
{
    private static string D(char c) => "sha256:" + new string(c, 64);

    private static string Entry(char c, string? platform) =>
        $$"""{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{D(c)}}","size":10{{(platform is null ? "" : ",\"platform\":" + platform)}}}""";

    private static IReadOnlyList<Descriptor> Index(params string[] entries) =>
        ManifestParser.ParseIndex(Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"manifests":[{{string.Join(",", entries)}}]}"""));

    [Fact]
    public void PicksAmd64EvenWhenListedLast()
    {
        var idx = Index(
            Entry('a', """{"os":"linux","architecture":"arm64","variant":"v8"}"""),
            Entry('b', """{"os":"linux","architecture":"arm","variant":"v7"}"""),
            Entry('c', """{"os":"linux","architecture":"amd64"}"""));
        Assert.Equal(D('c'), ManifestParser.SelectPlatform(idx, Platform.Default, "x").Digest);
    }

    [Fact]
    public void FirstMatchWinsAndAttestationsAreSkipped()
    {
        var idx = Index(
            Entry('0', """{"os":"unknown","architecture":"unknown"}"""),
            Entry('1', null),
            Entry('a', """{"os":"linux","architecture":"arm64"}"""),
            Entry('b', """{"os":"linux","architecture":"arm64","variant":"v8"}"""));
        Assert.Equal(D('a'), ManifestParser.SelectPlatform(idx, Platform.Parse("linux/arm64/v8"), "x").Digest);
    }

    [Fact]
    public void EntryWithoutPlatformUsedWhenAlone()
    {
        var idx = Index(Entry('1', null), Entry('0', """{"os":"unknown","architecture":"unknown"}"""));
        Assert.Equal(D('1'), ManifestParser.SelectPlatform(idx, Platform.Default, "x").Digest);
    }

    [Fact]
    public void NoMatchListsAvailablePlatforms()
    {
        var idx = Index(
            Entry('a', """{"os":"linux","architecture":"arm64","variant":"v8"}"""),
            Entry('0', """{"os":"unknown","architecture":"unknown"}"""),
            Entry('1', null));
        var ex = Assert.Throws<RegistryException>(() => ManifestParser.SelectPlatform(idx, Platform.Default, "docker.io/library/x:latest"));
        Assert.Contains("linux/amd64", ex.Message);
        Assert.Contains("available platforms: linux/arm64/v8", ex.Message);
        Assert.DoesNotContain("unknown", ex.Message);
    }

    [Theory]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}""", null, MediaTypes.DockerManifestList)]
    [InlineData("""{"schemaVersion":2,"config":{},"layers":[]}""", "application/vnd.oci.image.manifest.v1+json; charset=utf-8", MediaTypes.OciManifest)]
    [InlineData("""{"schemaVersion":2,"manifests":[]}""", "application/vnd.oci.image.index.v1+json", MediaTypes.OciIndex)]
    [InlineData("""{"schemaVersion":2,"config":{},"layers":[]}""", null, MediaTypes.OciManifest)]
    public void DetectsMediaType(string json, string? contentType, string expected) =>
        Assert.Equal(expected, ManifestParser.DetectMediaType(Encoding.UTF8.GetBytes(json), contentType));

    [Theory]
    [InlineData("""{"schemaVersion":1,"name":"a","fsLayers":[]}""", null)]
    [InlineData("""{"schemaVersion":2}""", "application/vnd.docker.distribution.manifest.v1+prettyjws")]
    public void RejectsSchema1(string json, string? contentType)
    {
        var ex = Assert.Throws<RegistryException>(() => ManifestParser.DetectMediaType(Encoding.UTF8.GetBytes(json), contentType));
        Assert.Equal("schema1 manifests are not supported", ex.Message);
    }

    [Theory]
    [InlineData(MediaTypes.OciLayerTar)]
    [InlineData(MediaTypes.OciLayerGzip)]
    [InlineData(MediaTypes.OciLayerZstd)]
    [InlineData(MediaTypes.DockerLayerGzip)]
    [InlineData(MediaTypes.OciLayerNondistributableGzip)]
    [InlineData(MediaTypes.DockerLayerForeignGzip)]
    public void AcceptsLayerTypes(string type)
    {
        Assert.True(MediaTypes.IsLayer(type));
        var m = ManifestParser.ParseManifest(Encoding.UTF8.GetBytes(Manifest(type)), MediaTypes.OciManifest);
        Assert.Equal(type, Assert.Single(m.Layers).MediaType);
        Assert.Equal(D('c'), m.Config.Digest);
    }

    [Fact]
    public void UnknownLayerTypeIsNamed()
    {
        var ex = Assert.Throws<RegistryException>(() =>
            ManifestParser.ParseManifest(Encoding.UTF8.GetBytes(Manifest("application/vnd.example.weird")), MediaTypes.OciManifest));
        Assert.Contains("application/vnd.example.weird", ex.Message);
    }

    [Fact]
    public void AcceptHeaderHasAllFourTypes()
    {
        foreach (var t in new[] { MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList })
        {
            Assert.Contains(t, MediaTypes.AcceptManifests);
        }
    }

    internal static string Manifest(string layerType) =>
        $$$"""{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{{D('c')}}}","size":2},"layers":[{"mediaType":"{{{layerType}}}","digest":"{{{D('2')}}}","size":5}]}""";
}

public sealed class CredentialsTests
{
    [Fact]
    public void ReadsAuthsIncludingHubLegacyKey()
    {
        var path = Path.Combine(Path.GetTempPath(), $"minidock-cfg-{Guid.NewGuid():N}.json");
        var hub = Convert.ToBase64String(Encoding.UTF8.GetBytes("hubuser:hubpass"));
        var other = Convert.ToBase64String(Encoding.UTF8.GetBytes("me:s:ecret"));
        File.WriteAllText(path, $$$"""{"auths":{"https://index.docker.io/v1/":{"auth":"{{{hub}}}"},"reg.example:5000":{"auth":"{{{other}}}"}},"credHelpers":{"helped.example":"fake"}}""");
        try
        {
            var store = new DockerConfigCredentials(path, (helper, url) =>
                helper == "fake" && url == "helped.example" ? """{"ServerURL":"helped.example","Username":"h","Secret":"p"}""" : null);
            Assert.Equal(("hubuser", "hubpass"), store.Get("docker.io"));
            Assert.Equal(("me", "s:ecret"), store.Get("reg.example:5000"));
            Assert.Equal(("h", "p"), store.Get("helped.example"));
            Assert.Null(store.Get("nowhere.example"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
