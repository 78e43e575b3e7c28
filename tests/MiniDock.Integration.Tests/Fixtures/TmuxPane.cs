using System.Diagnostics;
using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Containers;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>One detached tmux server with one window of a given size, on a private socket, with no user configuration.</summary>
public sealed class TmuxPane : IDisposable
{
    private const string Tmux = "/usr/bin/tmux";

    private readonly string _socket;
    private readonly ITestOutputHelper _output;

    /// <summary>Runs <paramref name="command"/> (a shell command line) in a new pane of a server on <paramref name="socket"/>.</summary>
    public TmuxPane(string socket, int width, int height, string command, ITestOutputHelper output)
    {
        Assert.True(File.Exists(Tmux), $"{Tmux} is missing: the interactive tests need tmux (apt-get install tmux; make test installs it)");
        _socket = socket;
        _output = output;
        Ok("-f", "/dev/null", "new-session", "-d", "-x", $"{width}", "-y", $"{height}", "/bin/sh", "-c", command);
    }

    /// <summary>Everything the pane shows, its scrollback included.</summary>
    public string Capture() => Ok("capture-pane", "-p", "-J", "-S", "-500").Stdout;

    public void Keys(params string[] keys) => Ok(["send-keys", .. keys]);

    /// <summary>Types <paramref name="text"/> literally, then Enter.</summary>
    public void TypeLine(string text)
    {
        Ok("send-keys", "-l", text);
        Ok("send-keys", "Enter");
    }

    public void Resize(int width, int height) => Ok("resize-window", "-x", $"{width}", "-y", $"{height}");

    /// <summary>Waits until some line of the pane is exactly <paramref name="line"/> (trailing blanks ignored).</summary>
    public void WaitForLine(string line)
    {
        var last = "";
        CliContainerSupport.Eventually(() => (last = Capture()).Split('\n').Any(l => l.TrimEnd() == line), $"the pane shows a line '{line}'", () => last);
    }

    /// <summary>Waits until some line of the pane matches <paramref name="pattern"/> entirely; returns that line.</summary>
    public string WaitForMatch(string pattern)
    {
        var last = "";
        string? found = null;
        var re = new Regex("^(?:" + pattern + ")$");
        CliContainerSupport.Eventually(
            () => (found = (last = Capture()).Split('\n').Select(l => l.TrimEnd()).FirstOrDefault(l => re.IsMatch(l))) is not null,
            $"the pane shows a line matching {pattern}",
            () => last);
        return found!;
    }

    /// <summary>Presses Enter until the busybox shell's prompt appears (attach shows nothing until the shell writes).</summary>
    public void WaitForPrompt()
    {
        var last = "";
        var sw = Stopwatch.StartNew();
        CliContainerSupport.Eventually(
            () =>
            {
                last = Capture();
                if (last.Contains("/ # ", StringComparison.Ordinal) || last.Split('\n').Any(l => l.TrimEnd() == "/ #"))
                {
                    return true;
                }

                if (sw.ElapsedMilliseconds > 1000)
                {
                    Keys("Enter");
                    sw.Restart();
                }

                return false;
            },
            "the container shell shows its prompt",
            () => last);
    }

    public void Dispose()
    {
        _output.WriteLine("--- tmux pane at the end ---\n" + Run("capture-pane", "-p", "-J", "-S", "-500").Stdout);
        Run("kill-server");
    }

    private CommandResult Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, "tmux failed: " + r.Describe());
        return r;
    }

    private CommandResult Run(params string[] args) => ProcessRunner.Run(Tmux, ["-S", _socket, .. args], TimeSpan.FromSeconds(20));
}
