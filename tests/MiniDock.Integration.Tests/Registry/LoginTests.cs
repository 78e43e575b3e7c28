using System.Text;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// <c>minidock login/logout</c> against the token-auth registry: credentials are checked before they
/// are kept, land in Docker's own config.json ($DOCKER_CONFIG), and a pull of the private image uses them.
/// </summary>
public sealed class LoginTests(RegistryAuthFixture auth, ITestOutputHelper output) : IClassFixture<RegistryAuthFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    private string DockerConfig => Path.Combine(_cli.Dir, "docker");

    private string ConfigJson => Path.Combine(DockerConfig, "config.json");

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Login_keeps_checked_credentials_that_pull_then_uses_and_logout_removes_them()
    {
        var host = auth.Registry.Host;
        var login = MiniDock("login", "-u", RegistryAuthFixture.User, "-p", RegistryAuthFixture.Password, host);
        Assert.True(login.ExitCode == 0, login.Describe());
        Assert.Contains("Login Succeeded", login.Stdout);

        var entry = JsonNode.Parse(File.ReadAllText(ConfigJson))!["auths"]![host]!["auth"]!.GetValue<string>();
        Assert.Equal($"{RegistryAuthFixture.User}:{RegistryAuthFixture.Password}", Encoding.UTF8.GetString(Convert.FromBase64String(entry)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ConfigJson));

        var pull = MiniDock("pull", "-q", $"{auth.Registry.Host}/{RegistryAuthFixture.PrivateRepoTag}");
        Assert.True(pull.ExitCode == 0, pull.Describe());

        var logout = MiniDock("logout", host);
        Assert.True(logout.ExitCode == 0, logout.Describe());
        Assert.Null(JsonNode.Parse(File.ReadAllText(ConfigJson))!["auths"]![host]);
        Assert.Equal(125, MiniDock("pull", "-q", $"{auth.Registry.Host}/{RegistryAuthFixture.PrivateRepoTag}").ExitCode);
    }

    [Fact]
    public void A_wrong_password_fails_125_and_keeps_nothing()
    {
        var r = MiniDock("login", "-u", RegistryAuthFixture.User, "-p", "wrong", auth.Registry.Host);
        Assert.Equal(125, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(ConfigJson) && File.ReadAllText(ConfigJson).Contains(auth.Registry.Host), "a refused login was written to config.json");
    }

    private CommandResult MiniDock(params string[] args)
    {
        _cli.Env["DOCKER_CONFIG"] = DockerConfig;
        return _cli.Run(args);
    }
}
