using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>A container that was created and never started already inspects like Docker's.</summary>
public sealed class CreateInspectTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Inspect_of_a_created_container_shows_the_images_environment_and_the_flags()
    {
        var id = _cli.Ok("create", "-e", "EXTRA=1", sandbox.Image, "true").Stdout.Trim();
        var env = _cli.Ok("inspect", "-f", "{{json .Config.Env}}", id).Stdout;
        Assert.Contains("\"PATH=/bin\"", env, StringComparison.Ordinal);
        Assert.Contains("\"EXTRA=1\"", env, StringComparison.Ordinal);
    }
}
