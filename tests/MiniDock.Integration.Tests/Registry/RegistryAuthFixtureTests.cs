using System.Net;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>Proves the token-auth registry fixture works, with skopeo as the client.</summary>
public sealed class RegistryAuthFixtureTests(RegistryAuthFixture auth, ITestOutputHelper output) : IClassFixture<RegistryAuthFixture>
{
    [Fact]
    public void Registry_ChallengesWithABearerRealmOnTheTokenServer()
    {
        using var r = auth.Registry.Get("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        var challenge = r.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains($"realm=\"http://127.0.0.1:{auth.TokenPort}/token\"", challenge.Parameter);
        Assert.Contains($"service=\"{RegistryAuthFixture.Service}\"", challenge.Parameter);
    }

    [Fact]
    public void PrivateImage_WithTheAuthFile_IsTheBusyboxOciManifest()
    {
        var r = auth.Registry.SkopeoOk("inspect", "--raw", "--tls-verify=false", "--authfile", auth.AuthFile,
            auth.Registry.DockerRef(RegistryAuthFixture.PrivateRepoTag));
        Assert.Equal(auth.Private, r.Stdout);
        Assert.True(auth.TokensIssued > 0);
    }

    [Fact]
    public void PrivateImage_WithoutCredentials_IsRefused()
    {
        var empty = auth.Registry.NewWorkDir("noauth");
        var authFile = Path.Combine(empty, "config.json");
        File.WriteAllText(authFile, "{\"auths\":{}}");
        var r = auth.Registry.Skopeo("inspect", "--raw", "--tls-verify=false", "--authfile", authFile,
            auth.Registry.DockerRef(RegistryAuthFixture.PrivateRepoTag));
        output.WriteLine(r.Describe());
        Assert.NotEqual(0, r.ExitCode);
    }

    [Fact]
    public void PrivateImage_WithAWrongPassword_IsRefused()
    {
        var r = auth.Registry.Skopeo("inspect", "--raw", "--tls-verify=false", "--authfile", auth.WriteAuthFile(RegistryAuthFixture.User, "wrong"),
            auth.Registry.DockerRef(RegistryAuthFixture.PrivateRepoTag));
        output.WriteLine(r.Describe());
        Assert.NotEqual(0, r.ExitCode);
        Assert.True(auth.TokensRefused > 0);
    }
}
