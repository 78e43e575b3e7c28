using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// A detached container's life: <c>stop</c> (stop signal, SIGKILL after the timeout), <c>rm</c> (refused while running
/// without -f), <c>start</c> and <c>restart</c>, and restart policies.
/// </summary>
public sealed class CliLifecycleTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const string IgnoreTerm = "trap '' TERM; echo ready; while true; do sleep 0.1; done";

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Stop_of_a_pid_1_that_ignores_SIGTERM_ends_in_SIGKILL_after_the_timeout()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "stubborn", image, "sh", "-c", IgnoreTerm);
        _cli.WaitForLog("stubborn", "ready");
        var r = _cli.Ok("stop", "-t", "1", "stubborn");
        Assert.Equal("stubborn\n", r.Stdout);
        Assert.Equal("137 exited false", _cli.InspectFormat("stubborn", "{{.State.ExitCode}} {{.State.Status}} {{.State.Running}}"));
        Assert.Equal("137", _cli.Ok("wait", "stubborn").Stdout.Trim());
    }

    [Fact]
    public void Stop_with_init_forwards_SIGTERM_and_the_exit_is_143()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "inited", "--init", image, "sleep", "1000");

        // A generous -t: 143 (not 137) shows that SIGTERM did the job, not the SIGKILL after the timeout.
        _cli.Ok("stop", "-t", "60", "inited");
        Assert.Equal("143 exited", _cli.InspectFormat("inited", "{{.State.ExitCode}} {{.State.Status}}"));
        Assert.Equal("true", _cli.InspectFormat("inited", "{{.HostConfig.Init}}"));
    }

    [Fact]
    public void Stop_timeout_flag_of_run_is_the_default_for_stop()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "short", "--stop-timeout", "1", image, "sh", "-c", IgnoreTerm);
        _cli.WaitForLog("short", "ready");
        Assert.Equal("1", _cli.InspectFormat("short", "{{.Config.StopTimeout}}"));
        _cli.Ok("stop", "short");
        Assert.Equal("137", _cli.InspectFormat("short", "{{.State.ExitCode}}"));
    }

    [Fact]
    public void Stop_of_an_exited_container_is_a_no_op()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Run("run", "--name", "gone", image, "sh", "-c", "exit 2");
        Assert.Equal("gone\n", _cli.Ok("stop", "gone").Stdout);
        Assert.Equal("2 exited", _cli.InspectFormat("gone", "{{.State.ExitCode}} {{.State.Status}}"));
    }

    [Fact]
    public void Rm_refuses_a_running_container_without_force()
    {
        var image = _cli.Pulled(sandbox);
        var id = _cli.RunDetached("--name", "busy", image, "sleep", "1000");
        var r = _cli.Run("rm", "busy");
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Lines());
        Assert.Contains("running", line);
        Assert.Equal([id[..12]], _cli.Ok("ps", "-q").Stdout.Lines());
        Assert.Equal("running", _cli.InspectFormat("busy", "{{.State.Status}}"));
    }

    [Fact]
    public void Rm_force_kills_and_removes_a_running_container()
    {
        var image = _cli.Pulled(sandbox);
        var id = _cli.RunDetached("--name", "doomed", image, "sleep", "1000");
        var pid = int.Parse(_cli.InspectFormat("doomed", "{{.State.Pid}}"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(pid > 0);
        Assert.Equal("doomed\n", _cli.Ok("rm", "-f", "doomed").Stdout);
        Assert.DoesNotContain(id, _cli.Ok("ps", "-a", "-q", "--no-trunc").Stdout.Lines());
        Assert.False(CommandLineOf(pid)?.StartsWith("sleep", StringComparison.Ordinal) == true, "the container's process is gone");
        var inspect = _cli.Run("inspect", "doomed");
        Assert.NotEqual(0, inspect.ExitCode);
        Assert.Contains("doomed", inspect.Stderr);

        // The name is free again.
        _cli.Ok("create", "--name", "doomed", image, "true");
    }

    [Fact]
    public void Rm_force_of_many_running_containers_never_fails()
    {
        // Each kill races the container's monitor releasing its cgroup: rm must not trip over a cgroup already gone.
        var image = _cli.Pulled(sandbox);
        for (var i = 0; i < 8; i++)
        {
            _cli.RunDetached("--name", $"quick{i}", image, "sleep", "1000");
            Assert.Equal($"quick{i}\n", _cli.Ok("rm", "-f", $"quick{i}").Stdout);
        }

        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void Rm_of_an_exited_container_removes_it()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "finished", image, "true");
        Assert.Single(_cli.Ok("ps", "-aq").Stdout.Lines());
        _cli.Ok("rm", "finished");
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void Start_runs_an_exited_container_again_with_the_same_command()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "again", image, "sh", "-c", "echo run");
        _cli.Ok("start", "again");
        Assert.Equal("0", _cli.Ok("wait", "again").Stdout.Trim());
        Assert.Equal("run\nrun\n", _cli.Ok("logs", "again").Stdout);
    }

    [Fact]
    public void Start_attach_prints_the_output_and_returns_the_exit_code()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("create", "--name", "attached", image, "sh", "-c", "echo hello; exit 8");
        Assert.Equal("created", _cli.InspectFormat("attached", "{{.State.Status}}"));
        var r = _cli.Run("start", "-a", "attached");
        Assert.True(r.ExitCode == 8, r.Describe());
        Assert.Equal("hello\n", r.Stdout);
    }

    [Fact]
    public void Restart_stops_and_starts_a_running_container()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "cycled", "--init", image, "sh", "-c", "echo up; sleep 1000");
        _cli.WaitForLog("cycled", "up");
        var pid1 = _cli.InspectFormat("cycled", "{{.State.Pid}}");
        _cli.Ok("restart", "-t", "30", "cycled");
        _cli.WaitForStatus("cycled", "running");
        Assert.NotEqual(pid1, _cli.InspectFormat("cycled", "{{.State.Pid}}"));
        var last = "";
        CliContainerSupport.Eventually(() => (last = _cli.Ok("logs", "cycled").Stdout) == "up\nup\n", "the log shows both runs", () => last);
    }

    [Fact]
    public void Restart_on_failure_retries_up_to_the_limit_then_stays_exited()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "flaky", "--restart", "on-failure:2", image, "sh", "-c", "echo attempt; exit 1");
        var last = "";
        CliContainerSupport.Eventually(
            () => (last = _cli.InspectFormat("flaky", "{{.RestartCount}} {{.State.Status}}")) == "2 exited" && _cli.Ok("logs", "flaky").Stdout == "attempt\nattempt\nattempt\n",
            "two restarts, then exited",
            () => last);
        Assert.Equal("on-failure", _cli.InspectFormat("flaky", "{{.HostConfig.RestartPolicy.Name}}"));
        Assert.Equal("2", _cli.InspectFormat("flaky", "{{.HostConfig.RestartPolicy.MaximumRetryCount}}"));
        Assert.Equal("1", _cli.Ok("wait", "flaky").Stdout.Trim());
        Assert.Equal("2 exited 1", _cli.InspectFormat("flaky", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}"));
    }

    [Fact]
    public void Restart_on_failure_does_not_restart_a_success()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "fine", "--restart", "on-failure", image, "true");
        Assert.Equal("0", _cli.Ok("wait", "fine").Stdout.Trim());
        Assert.Equal("0 exited", _cli.InspectFormat("fine", "{{.RestartCount}} {{.State.Status}}"));
    }

    [Fact]
    public void Restart_always_container_stays_stopped_after_stop()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "persistent", "--restart", "always", "--init", image, "sleep", "1000");
        Assert.Equal("always", _cli.InspectFormat("persistent", "{{.HostConfig.RestartPolicy.Name}}"));
        _cli.Ok("stop", "-t", "30", "persistent");

        // Watch for a while: the policy must not bring it back.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("exited 0", _cli.InspectFormat("persistent", "{{.State.Status}} {{.RestartCount}}"));
            Assert.Empty(_cli.Ok("ps", "-q").Stdout.Lines());
            Thread.Sleep(100);
        }
    }

    [Fact]
    public void Restart_always_brings_back_a_container_whose_process_exits()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "phoenix", "--restart", "always", image, "sh", "-c", "echo life; sleep 0.2; exit 3");
        var last = "";
        CliContainerSupport.Eventually(
            () => int.Parse(last = _cli.InspectFormat("phoenix", "{{.RestartCount}}"), System.Globalization.CultureInfo.InvariantCulture) >= 2,
            "restarted at least twice",
            () => "RestartCount " + last);
        _cli.Ok("rm", "-f", "phoenix");
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    private static string? CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
