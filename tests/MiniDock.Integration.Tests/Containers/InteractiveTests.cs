using System.Diagnostics;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// <c>-i</c> and <c>-t</c> for real: <c>run -it</c>, <c>exec -it</c> and <c>attach</c> driven through a tmux pane (a real
/// pty, resizable), and <c>-i</c> without a terminal through a pipe.
/// </summary>
public sealed class InteractiveTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);
    private readonly List<TmuxPane> _panes = [];

    public void Dispose()
    {
        // The panes first: their minidock processes end with the tmux server; then the containers go.
        foreach (var p in _panes)
        {
            p.Dispose();
        }

        _cli.Dispose();
    }

    [Fact]
    public void Run_it_gives_a_terminal_that_follows_resizes_passes_ctrl_c_and_returns_the_exit_code()
    {
        var image = _cli.Pulled(sandbox);
        var pane = Open(100, 30, $"{Minidock} run -it --rm --name tty {Quote(image)} sh");
        pane.WaitForPrompt();

        pane.TypeLine("stty size");
        pane.WaitForLine("30 100");
        pane.Resize(120, 40);
        pane.TypeLine("stty size");
        pane.WaitForLine("40 120");

        // Ctrl-C reaches the foreground process through the terminal: the sleep dies, the shell lives on.
        pane.TypeLine("sleep 100");
        CliContainerSupport.Eventually(() => _cli.Run("exec", "tty", "pidof", "sleep").Stdout.Trim().Length > 0, "the sleep runs", pane.Capture);
        pane.Keys("C-c");
        pane.TypeLine("echo alive-$((6*7))");
        pane.WaitForLine("alive-42");
        Assert.Equal("", _cli.Run("exec", "tty", "pidof", "sleep").Stdout.Trim());

        pane.TypeLine("[ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty");
        pane.WaitForLine("stdio-is-a-tty");

        pane.TypeLine("exit 7");
        pane.WaitForLine("EXIT=7");
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void Exec_it_into_a_detached_container_gets_its_own_resizable_terminal()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "box", image, "sleep", "1000");
        var pane = Open(90, 25, $"{Minidock} exec -it box sh");
        pane.WaitForPrompt();
        pane.TypeLine("stty size");
        pane.WaitForLine("25 90");
        pane.Resize(110, 35);
        pane.TypeLine("stty size");
        pane.WaitForLine("35 110");
        pane.TypeLine("echo env-$HOSTNAME");
        pane.WaitForLine("env-" + _cli.InspectFormat("box", "{{.Id}}")[..12]);
        pane.TypeLine("exit 5");
        pane.WaitForLine("EXIT=5");

        // The exec's end is not the container's.
        Assert.Equal("running", _cli.InspectFormat("box", "{{.State.Status}}"));
    }

    [Fact]
    public void Attach_to_a_detached_tty_container_types_into_it_and_returns_its_exit_code()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("-it", "--name", "att", image, "sh");
        var pane = Open(80, 24, $"{Minidock} attach att");
        pane.WaitForPrompt();
        pane.TypeLine("echo attached-$((1+1))");
        pane.WaitForLine("attached-2");
        pane.TypeLine("stty size");
        pane.WaitForLine("24 80");
        pane.TypeLine("exit 9");
        pane.WaitForLine("EXIT=9");
        Assert.Equal("9", _cli.Ok("wait", "att").Stdout.Trim());
        Assert.Equal("exited", _cli.InspectFormat("att", "{{.State.Status}}"));
    }

    [Fact]
    public void Run_i_without_t_copies_piped_stdin_to_the_container_until_eof()
    {
        var image = _cli.Pulled(sandbox);
        var r = Shell("printf 'line1\\nline2\\n' | \"$MINIDOCK\" run -i --rm \"$0\" sh -c 'cat; echo stdin-closed'", image);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("line1\nline2\nstdin-closed\n", r.Stdout);
        Assert.Equal("", r.Stderr);

        // The container's exit code comes back through the pipe's end too.
        var rc = Shell("echo 12 | \"$MINIDOCK\" run -i --rm \"$0\" sh -c 'read n; exit $n'", image);
        Assert.True(rc.ExitCode == 12, rc.Describe());
    }

    [Fact]
    public void Run_without_i_gives_the_container_no_stdin()
    {
        var image = _cli.Pulled(sandbox);
        var r = Shell("echo should-not-arrive | \"$MINIDOCK\" run --rm \"$0\" sh -c 'cat; [ -t 0 ] || echo not-a-tty'", image);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("not-a-tty\n", r.Stdout);
    }

    [Fact]
    public void Exec_i_copies_piped_stdin_into_the_container()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "sink", image, "sleep", "1000");
        var r = Shell("printf 'abc\\n' | \"$MINIDOCK\" exec -i sink sh -c 'cat > /tmp/got; wc -c < /tmp/got'", image);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("4", r.Stdout.Trim());
        Assert.Equal("abc\n", _cli.Ok("exec", "sink", "cat", "/tmp/got").Stdout);
    }

    private static string Minidock => Quote(MinidockCli.Binary);

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private CommandResult Shell(string script, string image)
    {
        var r = ProcessRunner.Run("/bin/sh", ["-c", script, image], MinidockCli.DefaultTimeout, _cli.ShellEnv(), _cli.Dir);
        output.WriteLine(r.Describe());
        return r;
    }

    /// <summary>A tmux pane of the given size running <paramref name="command"/>, then printing EXIT=its status and waiting.</summary>
    private TmuxPane Open(int width, int height, string command)
    {
        var env = string.Join(' ', _cli.ShellEnv().Select(kv => $"{kv.Key}={Quote(kv.Value)}"));
        var pane = new TmuxPane(Path.Combine(_cli.Dir, "tmux.sock"), width, height, $"{env} {command}; echo EXIT=$?; sleep 600", output);
        _panes.Add(pane);
        return pane;
    }
}
