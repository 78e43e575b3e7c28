using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>MiniDock's --debug trace: engine steps with timings on stderr, stdout untouched.</summary>
public sealed partial class TraceTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc's --debug prints logrus lines without per-step timings.
    public void Debug_TracesTheEngineSteps_WithTimings_OnStderrOnly()
    {
        var b = _rt.NewBundle("trace").Sh("echo only-this");
        b.Save();
        var r = _rt.Invoke("--debug", "run", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("only-this\n", r.Stdout);
        foreach (var step in new[] { "pivot_root", "mount", "cgroup" })
        {
            Assert.True(r.Stderr.Contains(step, StringComparison.Ordinal), $"--debug does not mention {step}: " + r.Describe());
        }

        Assert.True(Timing().IsMatch(r.Stderr), "--debug shows no timings (e.g. '1.2ms'): " + r.Describe());
    }

    [Fact]
    public void WithoutDebug_NothingIsTraced()
    {
        var b = _rt.NewBundle("notrace").Sh("echo only-this");
        var r = _rt.RunForeground(b);
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Equal("only-this\n", r.Stdout);
        Assert.DoesNotContain("pivot_root", r.Stderr);
    }

    [GeneratedRegex(@"\d+(\.\d+)?\s?(ns|us|µs|ms|s)\b")]
    private static partial Regex Timing();
}
