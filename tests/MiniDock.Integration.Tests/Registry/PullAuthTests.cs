using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// <c>minidock pull</c> against the token-auth registry of <see cref="RegistryAuthFixture"/>: credentials come from
/// <c>$DOCKER_CONFIG/config.json</c> (auths → base64 user:pass).
/// </summary>
public sealed class PullAuthTests(RegistryAuthFixture auth, ITestOutputHelper output) : IClassFixture<RegistryAuthFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output, () => auth.Registry.ServerLog);

    private string PrivateReference => auth.Registry.Reference(RegistryAuthFixture.PrivateRepoTag);

    public void Dispose() => _cli.Dispose();

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Pull_WithTheRightCredentials_SucceedsAndImagesListsIt()
    {
        _cli.Env["DOCKER_CONFIG"] = ConfigDir(File.ReadAllText(auth.AuthFile));
        var issuedBefore = auth.TokensIssued;

        _cli.Ok("pull", PrivateReference);

        var image = Assert.Single(_cli.ImagesJson());
        Assert.Equal($"{auth.Registry.Host}/private/busybox", (string?)image["Repository"]);
        Assert.Equal("oci", (string?)image["Tag"]);
        Assert.Equal(RegistryImages.Sha256Digest(System.Text.Encoding.UTF8.GetBytes(auth.Private)), (string?)image["Digest"]);
        Assert.True(auth.TokensIssued > issuedBefore, "the pull got no token from the token server");
        _cli.AssertAllBlobsVerify();
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Pull_WithoutCredentials_Fails125Unauthorized()
    {
        _cli.Env["DOCKER_CONFIG"] = ConfigDir(configJson: null);
        AssertUnauthorized(_cli.Fails125("pull", PrivateReference));
        Assert.Empty(_cli.ImagesJson());
        Assert.Empty(_cli.Blobs());
    }

    [Fact]
    [Trait(PullTests.Needs, PullTests.Pull)]
    public void Pull_WithAWrongPassword_Fails125Unauthorized()
    {
        var refusedBefore = auth.TokensRefused;
        _cli.Env["DOCKER_CONFIG"] = ConfigDir(File.ReadAllText(auth.WriteAuthFile(RegistryAuthFixture.User, "not-the-password")));
        AssertUnauthorized(_cli.Fails125("pull", PrivateReference));
        Assert.True(auth.TokensRefused > refusedBefore, "the token server was never asked with the wrong password");
        Assert.Empty(_cli.ImagesJson());
        Assert.Empty(_cli.Blobs());
    }

    private static void AssertUnauthorized(string line) =>
        Assert.True(
            line.Contains("unauthorized", StringComparison.OrdinalIgnoreCase) || line.Contains("denied", StringComparison.OrdinalIgnoreCase),
            $"the error should say unauthorized/denied: {line}");

    /// <summary>A new DOCKER_CONFIG dir, with config.json holding <paramref name="configJson"/> (none: empty dir).</summary>
    private string ConfigDir(string? configJson)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_cli.Dir, "docker-config-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        if (configJson is not null)
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), configJson);
        }

        return dir;
    }
}
