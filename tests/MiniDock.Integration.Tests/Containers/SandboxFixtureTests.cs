using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>The sandbox image pulls and runs its default command: the base every container test stands on.</summary>
public sealed class SandboxFixtureTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Sandbox_image_runs_and_shows_both_layers()
    {
        var r = _cli.Ok("run", "--rm", sandbox.Image, "cat", "/etc/motd");
        Assert.Equal(SandboxFixture.Motd, r.Stdout);
        Assert.Contains("dev:x:1000", _cli.Ok("run", "--rm", sandbox.Image, "cat", "/etc/passwd").Stdout);
    }
}
