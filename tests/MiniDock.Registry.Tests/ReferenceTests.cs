namespace MiniDock.Registry.Tests;

public sealed class ReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("alpine:3.19", "docker.io", "library/alpine", "3.19", null)]
    [InlineData("user/app", "docker.io", "user/app", "latest", null)]
    [InlineData("docker.io/alpine", "docker.io", "library/alpine", "latest", null)]
    [InlineData("index.docker.io/library/alpine:edge", "docker.io", "library/alpine", "edge", null)]
    [InlineData("ghcr.io/owner/ns/app:v1.2", "ghcr.io", "owner/ns/app", "v1.2", null)]
    [InlineData("host:5000/ns/app:tag", "host:5000", "ns/app", "tag", null)]
    [InlineData("localhost/x", "localhost", "x", "latest", null)]
    [InlineData("localhost:5000/a/b@sha256:" + Hex, "localhost:5000", "a/b", null, "sha256:" + Hex)]
    [InlineData("alpine@sha256:" + Hex, "docker.io", "library/alpine", null, "sha256:" + Hex)]
    [InlineData("alpine:3@sha256:" + Hex, "docker.io", "library/alpine", "3", "sha256:" + Hex)]
    [InlineData("127.0.0.1:5000/a_b/c-d.e__f", "127.0.0.1:5000", "a_b/c-d.e__f", "latest", null)]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", "latest", null)]
    public void ParsesValid(string text, string registry, string repo, string? tag, string? digest)
    {
        var r = Reference.Parse(text);
        Assert.Equal(new Reference(registry, repo, tag, digest), r);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alpine")]
    [InlineData("user/App")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("/a")]
    [InlineData("alpine:")]
    [InlineData("alpine:-bad")]
    [InlineData("alpine:bad/tag")]
    [InlineData("alpine@sha256:abc")]
    [InlineData("alpine@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("alpine@md5:0123456789abcdef")]
    [InlineData("alpine latest")]
    [InlineData("a--")]
    [InlineData("_a")]
    [InlineData("host:5000/")]
    [InlineData("bad_host:5000/app")]
    public void RejectsInvalid(string text)
    {
        var ex = Assert.Throws<ReferenceException>(() => Reference.Parse(text));
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void RejectsOverlongTag() =>
        Assert.Throws<ReferenceException>(() => Reference.Parse("alpine:" + new string('a', 129)));

    [Fact]
    public void AcceptsLongestTag() =>
        Assert.Equal(new string('a', 128), Reference.Parse("alpine:" + new string('a', 128)).Tag);

    [Theory]
    [InlineData("alpine", "registry-1.docker.io", "alpine", "docker.io/library/alpine:latest")]
    [InlineData("user/app:1", "registry-1.docker.io", "user/app", "docker.io/user/app:1")]
    [InlineData("quay.io/a/b:2", "quay.io", "quay.io/a/b", "quay.io/a/b:2")]
    [InlineData("localhost:5000/a/b@sha256:" + Hex, "localhost:5000", "localhost:5000/a/b", "localhost:5000/a/b@sha256:" + Hex)]
    public void Forms(string text, string apiHost, string familiar, string full)
    {
        var r = Reference.Parse(text);
        Assert.Equal(apiHost, r.ApiHost);
        Assert.Equal(familiar, r.FamiliarName);
        Assert.Equal(full, r.ToString());
        Assert.Equal(r, Reference.Parse(r.ToString()));
    }
}

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/arm64", "linux/arm64/v8", true)]
    [InlineData("linux/arm64/v8", "linux/arm64", true)]
    [InlineData("linux/arm64", "linux/arm64", true)]
    [InlineData("linux/arm", "linux/arm/v7", true)]
    [InlineData("linux/arm/v6", "linux/arm/v7", false)]
    [InlineData("linux/amd64", "linux/amd64", true)]
    [InlineData("linux/amd64", "linux/arm64", false)]
    [InlineData("linux/amd64", "windows/amd64", false)]
    [InlineData("linux/x86_64", "linux/amd64", true)]
    [InlineData("linux/aarch64", "linux/arm64/v8", true)]
    [InlineData("linux/amd64/v3", "linux/amd64", false)]
    public void Matches(string a, string b, bool expected) =>
        Assert.Equal(expected, Platform.Parse(a).Matches(Platform.Parse(b)));

    [Fact]
    public void DefaultIsLinuxAmd64()
    {
        Assert.Equal(new Platform("linux", "amd64", null), Platform.Default);
        Assert.False(Platform.Default.Matches(null));
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("a/b/c/d")]
    public void RejectsMalformed(string text) => Assert.Throws<FormatException>(() => Platform.Parse(text));
}

public sealed class AuthChallengeTests
{
    [Fact]
    public void ParsesDockerHubBearer()
    {
        var c = Assert.Single(AuthChallenge.ParseAll(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\""));
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.docker.io/token", c.Realm);
        Assert.Equal("registry.docker.io", c.Service);
        Assert.Equal("repository:library/alpine:pull", c.Scope);
    }

    [Fact]
    public void ParsesErrorCommasInQuotesAndEscapes()
    {
        var c = Assert.Single(AuthChallenge.ParseAll(
            "bearer realm=\"https://r/t\", scope=\"repository:a:pull,push\", error=\"insufficient_scope\", x=\"q\\\"uote\""));
        Assert.True(c.IsBearer);
        Assert.Equal("repository:a:pull,push", c.Scope);
        Assert.Equal("insufficient_scope", c.Error);
        Assert.Equal("q\"uote", c.Parameters["x"]);
    }

    [Fact]
    public void ParsesSeveralChallengesAndPrefersBearer()
    {
        var all = AuthChallenge.ParseAll("Basic realm=\"reg\", Bearer realm=\"https://r/t\",service=svc");
        Assert.Equal(2, all.Count);
        Assert.True(all[0].IsBasic);
        Assert.Equal("reg", all[0].Realm);
        Assert.Equal("svc", all[1].Service);
        Assert.True(AuthChallenge.Select(["Basic realm=\"reg\", Bearer realm=\"https://r/t\""])!.IsBearer);
    }

    [Fact]
    public void UnknownSchemeSelectsNothing() => Assert.Null(AuthChallenge.Select(["Negotiate abc"]));
}
