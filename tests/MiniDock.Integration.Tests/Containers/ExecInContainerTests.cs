using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>exec</c> into a detached container: exit codes passed through, -e, -w, -u, -d, and a clear refusal when it is not running.</summary>
public sealed class ExecInContainerTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Exec_passes_the_exit_code_and_output_through()
    {
        StartSleeper();
        var r = _cli.Run("exec", "box", "sh", "-c", "echo out; echo err >&2; exit 5");
        Assert.True(r.ExitCode == 5, r.Describe());
        Assert.Equal("out\n", r.Stdout);
        Assert.Equal("err\n", r.Stderr);
        Assert.Equal(0, _cli.Run("exec", "box", "true").ExitCode);
    }

    [Fact]
    public void Exec_of_a_missing_or_non_executable_command_exits_127_or_126()
    {
        StartSleeper();
        Assert.Equal(127, _cli.Run("exec", "box", "nosuchcommand").ExitCode);
        Assert.Equal(126, _cli.Run("exec", "box", "/etc/passwd").ExitCode);
        Assert.Equal("running", _cli.InspectFormat("box", "{{.State.Status}}"));
    }

    [Fact]
    public void Exec_in_a_missing_working_directory_exits_126_as_Docker()
    {
        StartSleeper();
        var r = _cli.Run("exec", "-w", "/no/such/dir", "box", "true");
        Assert.True(r.ExitCode == 126, r.Describe());
        Assert.Contains("/no/such/dir", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_sees_the_container_environment_and_adds_env_flags()
    {
        StartSleeper("-e", "FROM_RUN=run value");
        var r = _cli.Ok("exec", "-e", "FROM_EXEC=exec value", "-e", "FROM_RUN=replaced", "box", "env");
        var env = r.Stdout.Lines();
        Assert.Contains("FROM_EXEC=exec value", env);
        Assert.Contains("FROM_RUN=replaced", env);
        Assert.Contains("PATH=/bin", env);
        Assert.Contains("FROM_RUN=run value", _cli.Ok("exec", "box", "env").Stdout.Lines());
    }

    [Fact]
    public void Exec_workdir_flag_sets_the_cwd()
    {
        StartSleeper("-w", "/home");
        Assert.Equal("/home\n", _cli.Ok("exec", "box", "pwd").Stdout);
        Assert.Equal("/etc\n", _cli.Ok("exec", "-w", "/etc", "box", "pwd").Stdout);
    }

    [Fact]
    public void Exec_user_flag_runs_as_that_user()
    {
        StartSleeper();
        Assert.Equal("1000\n", _cli.Ok("exec", "-u", "dev", "box", "id", "-u").Stdout);
        Assert.Equal("1000 10\n", _cli.Ok("exec", "-u", "1000:wheel", "box", "sh", "-c", "echo $(id -u) $(id -g)").Stdout);
        Assert.Equal("0\n", _cli.Ok("exec", "box", "id", "-u").Stdout);
        Assert.Contains("nosuch", _cli.Fails125("exec", "-u", "nosuch", "box", "true"));
    }

    [Fact]
    public void Exec_inherits_the_run_user()
    {
        StartSleeper("-u", "dev");
        Assert.Equal("1000\n", _cli.Ok("exec", "box", "id", "-u").Stdout);
    }

    [Fact]
    public void Exec_runs_in_the_container_namespaces()
    {
        StartSleeper();
        var id = _cli.InspectFormat("box", "{{.Id}}");
        Assert.Equal(id[..12] + "\n", _cli.Ok("exec", "box", "hostname").Stdout);

        // The container's PID 1 is its sleep, not anything of the host.
        Assert.Equal("sleep", _cli.Ok("exec", "box", "cat", "/proc/1/comm").Stdout.Trim());
    }

    [Fact]
    public void Exec_detached_leaves_its_process_running_in_the_container()
    {
        StartSleeper();
        var r = _cli.Ok("exec", "-d", "box", "sh", "-c", "echo started > /tmp/flag; sleep 100");
        Assert.Equal("", r.Stdout);
        var last = "";
        CliContainerSupport.Eventually(() => (last = _cli.Run("exec", "box", "cat", "/tmp/flag").Stdout) == "started\n", "the detached exec ran", () => last);
        Assert.Contains("sleep 100", _cli.Ok("exec", "box", "ps", "-o", "args").Stdout);
    }

    [Fact]
    public void Exec_into_a_stopped_container_fails_clearly()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "stopped", image, "true");
        var r = _cli.Run("exec", "stopped", "true");
        Assert.NotEqual(0, r.ExitCode);
        var line = Assert.Single(r.Stderr.Lines());
        Assert.Contains("not running", line);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Exec_into_a_created_container_fails_clearly()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("create", "--name", "fresh", image, "sleep", "100");
        var r = _cli.Run("exec", "fresh", "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("not running", Assert.Single(r.Stderr.Lines()));
        Assert.Equal("created", _cli.InspectFormat("fresh", "{{.State.Status}}"));
    }

    [Fact]
    public void Exec_into_an_unknown_container_is_our_error()
    {
        _cli.Pulled(sandbox);
        Assert.Contains("nosuch", _cli.Fails125("exec", "nosuch", "true"));
    }

    private void StartSleeper(params string[] flags)
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached([.. flags, "--name", "box", image, "sleep", "1000"]);
    }
}
