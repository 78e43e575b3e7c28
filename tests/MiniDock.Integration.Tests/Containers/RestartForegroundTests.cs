using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// A foreground <c>run --restart</c>: the command returns the first run's exit code (Docker's CLI does), and the
/// policy goes on in the background through a monitor that takes the container over.
/// </summary>
public sealed class RestartForegroundTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Foreground_run_returns_the_first_exit_and_the_policy_restarts_it_in_the_background()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--name", "fg", "--restart", "on-failure:2", image, "sh", "-c", "echo attempt; exit 4");
        Assert.True(r.ExitCode == 4, r.Describe());
        Assert.Equal("attempt\n", r.Stdout);

        var last = "";
        CliContainerSupport.Eventually(
            () => (last = _cli.InspectFormat("fg", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}")) == "2 exited 4"
                  && _cli.Ok("logs", "fg").Stdout == "attempt\nattempt\nattempt\n",
            "two restarts in the background, then exited",
            () => last);
    }

    [Fact]
    public void Foreground_run_that_succeeds_is_not_restarted_on_failure()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "ok", "--restart", "on-failure", image, "true");

        // A restart would already have been handed to a monitor (and counted) before `run` returned.
        Assert.Equal("0 exited", _cli.InspectFormat("ok", "{{.RestartCount}} {{.State.Status}}"));
    }
}
