using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// <c>run</c>'s exit status is Docker's: the command's own, 126 when it cannot be executed, 127 when it is not there,
/// 128+N when a signal ended it, and 125 (with exactly one line on stderr) when MiniDock itself refuses.
/// </summary>
public sealed class RunExitCodeTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(0, "true")]
    [InlineData(1, "false")]
    [InlineData(3, "sh", "-c", "exit 3")]
    [InlineData(255, "sh", "-c", "exit 255")]
    public void Run_exits_with_the_command_exit_code(int expected, params string[] command)
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run(["run", "--rm", image, .. command]);
        Assert.True(r.ExitCode == expected, $"expected {expected}: " + r.Describe());
        Assert.Equal("", r.Stderr);
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/etc")]
    public void Run_of_something_that_is_not_executable_exits_126(string path)
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--rm", image, path);
        Assert.True(r.ExitCode == 126, "expected 126: " + r.Describe());
        var line = Assert.Single(r.Stderr.Lines());
        Assert.Contains(path, line);
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Theory]
    [InlineData("nosuchcommand")]
    [InlineData("/no/such/binary")]
    public void Run_of_a_missing_command_exits_127(string command)
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--rm", image, command);
        Assert.True(r.ExitCode == 127, "expected 127: " + r.Describe());
        var line = Assert.Single(r.Stderr.Lines());
        Assert.Contains(command, line);
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void Run_of_a_missing_command_without_rm_leaves_a_container_that_records_127()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--name", "missing", image, "nosuchcommand");
        Assert.Equal(127, r.ExitCode);
        Assert.Equal("127", _cli.InspectFormat("missing", "{{.State.ExitCode}}"));
        Assert.Contains("nosuchcommand", _cli.InspectFormat("missing", "{{.State.Error}}"));
    }

    [Fact]
    public void A_command_killed_by_SIGKILL_under_init_exits_137()
    {
        // With --init the shell is not PID 1, so it can SIGKILL itself; tini reports 128+9.
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--rm", "--init", image, "sh", "-c", "kill -9 $$");
        Assert.True(r.ExitCode == 137, "expected 137: " + r.Describe());
    }

    [Fact]
    public void Pid_1_cannot_be_killed_from_inside_by_a_signal_it_does_not_handle()
    {
        // The kernel drops SIGKILL sent to a namespace's init by its own processes: the shell goes on and exits 0.
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--rm", image, "sh", "-c", "kill -9 $$; echo still here");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("still here\n", r.Stdout);
    }

    [Fact]
    public void Kill_of_a_detached_container_makes_wait_print_137_and_inspect_record_it()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "victim", image, "sleep", "100");
        Assert.Equal("running", _cli.InspectFormat("victim", "{{.State.Status}}"));
        _cli.Ok("kill", "victim");
        Assert.Equal("137", _cli.Ok("wait", "victim").Stdout.Trim());
        Assert.Equal("137 exited false", _cli.InspectFormat("victim", "{{.State.ExitCode}} {{.State.Status}} {{.State.Running}}"));
    }

    [Fact]
    public void Kill_with_a_signal_the_command_handles_reports_the_command_exit()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "handler", image, "sh", "-c", "trap 'exit 21' HUP; echo ready; while true; do sleep 0.1; done");
        _cli.WaitForLog("handler", "ready");
        _cli.Ok("kill", "-s", "HUP", "handler");
        Assert.Equal("21", _cli.Ok("wait", "handler").Stdout.Trim());
    }

    [Fact]
    public void Wait_on_an_exited_container_prints_its_exit_code_at_once()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal(4, _cli.Run("run", "--name", "four", image, "sh", "-c", "exit 4").ExitCode);
        Assert.Equal("4", _cli.Ok("wait", "four").Stdout.Trim());
    }

    [Theory]
    [InlineData("BAD::name")]
    [InlineData("--restart", "bogus", "IMAGE")]
    [InlineData("--restart", "on-failure:x", "IMAGE")]
    [InlineData("-v", "a:b:c:d", "IMAGE")]
    [InlineData("-v", "/host:relative", "IMAGE")]
    [InlineData("-u", "nosuch", "IMAGE")]
    [InlineData("-u", "1000:nosuchgroup", "IMAGE")]
    [InlineData("--network", "nope", "IMAGE")]
    [InlineData("--ulimit", "nofile=abc", "IMAGE")]
    [InlineData("-m", "12x", "IMAGE")]
    [InlineData("--stop-signal", "SIGNOPE", "IMAGE")]
    [InlineData("--rm", "--restart", "always", "IMAGE")]
    public void Our_own_errors_exit_125_with_one_line(params string[] flagsAndImage)
    {
        var image = _cli.Pulled(sandbox);
        var args = flagsAndImage.Select(a => a == "IMAGE" ? image : a).ToArray();
        var line = _cli.Fails125(["run", "--rm", .. args, "true"]);
        Assert.StartsWith("Error: ", line);
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void A_name_already_in_use_exits_125_and_leaves_the_first_container_alone()
    {
        var image = _cli.Pulled(sandbox);
        var first = _cli.Ok("create", "--name", "taken", image, "true").Stdout.Trim();
        var line = _cli.Fails125("run", "--name", "taken", image, "true");
        Assert.Contains("\"/taken\"", line);
        Assert.Contains(first, line);
        Assert.Equal([first[..12]], _cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void An_unknown_user_exits_125_before_the_command_runs()
    {
        var image = _cli.Pulled(sandbox);
        var line = _cli.Fails125("run", "--name", "nouser", "-u", "nosuch", image, "sh", "-c", "echo ran");
        Assert.Contains("nosuch", line);
        Assert.DoesNotContain("ran", _cli.Ok("logs", "nouser").Stdout);
    }
}
