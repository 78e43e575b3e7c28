using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>logs</c> of a detached container: everything it wrote, <c>--tail</c>, <c>-t</c>, and <c>-f</c> that ends when the container does.</summary>
public sealed class LogsTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Logs_of_a_detached_container_keep_stdout_and_stderr_apart()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "talker", image, "sh", "-c", "echo one; echo oops >&2; echo two");
        Assert.Equal("0", _cli.Ok("wait", "talker").Stdout.Trim());
        var r = _cli.Ok("logs", "talker");
        Assert.Equal("one\ntwo\n", r.Stdout);
        Assert.Equal("oops\n", r.Stderr);
    }

    [Fact]
    public void Logs_tail_prints_only_the_last_lines()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "counter", image, "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done");
        _cli.Ok("wait", "counter");
        Assert.Equal("line5\n", _cli.Ok("logs", "--tail", "1", "counter").Stdout);
        Assert.Equal("line4\nline5\n", _cli.Ok("logs", "--tail", "2", "counter").Stdout);
        Assert.Equal("", _cli.Ok("logs", "--tail", "0", "counter").Stdout);
        Assert.Equal(5, _cli.Ok("logs", "--tail", "all", "counter").Stdout.Lines().Length);
        Assert.Equal(5, _cli.Ok("logs", "--tail", "99", "counter").Stdout.Lines().Length);
    }

    [Fact]
    public void Logs_timestamps_prefix_each_line_with_an_RFC3339_nano_time()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "stamped", image, "sh", "-c", "echo first; echo second");
        _cli.Ok("wait", "stamped");
        var lines = _cli.Ok("logs", "-t", "stamped").Stdout.Lines();
        Assert.Equal(2, lines.Length);
        Assert.Matches(Stamped("first"), lines[0]);
        Assert.Matches(Stamped("second"), lines[1]);
        var times = lines.Select(l => DateTimeOffset.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(times[0] <= times[1], "timestamps go forward: " + string.Join(" | ", lines));
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - times[0]).TotalHours) < 1, "the timestamp is now, in UTC: " + lines[0]);
    }

    [Fact]
    public void Logs_follow_streams_new_output_and_ends_when_the_container_exits()
    {
        var image = _cli.Pulled(sandbox);
        var sync = Directory.CreateDirectory(Path.Combine(_cli.Dir, "sync")).FullName;
        _cli.RunDetached("--name", "slow", "-v", $"{sync}:/sync", image,
            "sh", "-c", "echo before; while [ ! -e /sync/go ]; do sleep 0.05; done; echo after; exit 6");
        using var follow = _cli.Start("logs", "-f", "slow");
        CliContainerSupport.Eventually(() => follow.StdoutSoFar.Contains("before", StringComparison.Ordinal), "logs -f shows the first line", () => follow.StdoutSoFar);
        Assert.False(follow.HasExited, "logs -f keeps following while the container runs");

        File.WriteAllText(Path.Combine(sync, "go"), "");
        var r = follow.Wait(CliContainerSupport.WaitLimit);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("before\nafter\n", r.Stdout);
        Assert.Equal("6", _cli.InspectFormat("slow", "{{.State.ExitCode}}"));
    }

    [Fact]
    public void Logs_follow_of_an_exited_container_prints_everything_and_returns()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal("a\nb\n", _cli.Ok("run", "--name", "done", image, "sh", "-c", "echo a; echo b").Stdout);
        var r = _cli.Run(CliContainerSupport.WaitLimit, "logs", "-f", "--tail", "1", "done");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("b\n", r.Stdout);
    }

    [Fact]
    public void Foreground_run_output_is_in_the_log_too()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--name", "fg", image, "sh", "-c", "echo out; echo err >&2");
        Assert.Equal("out\n", r.Stdout);
        Assert.Equal("err\n", r.Stderr);
        var logs = _cli.Ok("logs", "fg");
        Assert.Equal("out\n", logs.Stdout);
        Assert.Equal("err\n", logs.Stderr);
    }

    [Fact]
    public void Logs_of_an_unknown_container_is_our_error()
    {
        _cli.Pulled(sandbox);
        Assert.Contains("nosuch", _cli.Fails125("logs", "nosuch"));
    }

    private static Regex Stamped(string text) => new(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z " + Regex.Escape(text) + "$");
}
