using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>Exit codes of a foreground run, signal forwarding, and `kill` with its signal spellings.</summary>
public sealed class SignalTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Traps TERM (PID 1 ignores signals it has no handler for), then says it is ready.</summary>
    private const string TrapScript = "trap 'echo got-term > /tmp/term; exit 42' TERM; touch /tmp/ready; while true; do sleep 0.1; done";

    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public void ForegroundRun_ReturnsTheExitCode(int code)
    {
        var b = _rt.NewBundle("exit").Sh($"exit {code}");
        var r = _rt.RunForeground(b);
        Assert.True(r.ExitCode == code, $"expected {code}: " + r.Describe());
    }

    [Fact]
    public void ForegroundRun_ForwardsSigtermToTheContainer()
    {
        var b = _rt.NewBundle("fwd").Sh(TrapScript);
        var run = _rt.LaunchRun(b);
        WaitReady(b, run);
        run.Signal(Native.SIGTERM);
        var r = _rt.Finish(run);
        Assert.True(r.ExitCode == 42, "the container's TERM trap should make run exit 42: " + r.Describe());
        Assert.Equal("got-term", File.ReadAllText(Path.Combine(b.RootFs, "tmp", "term")).Trim());
        Assert.Null(_rt.TryStatus(b.Id));
    }

    [Fact]
    public void ForegroundRun_ContainerKilledWithSigkill_Returns137()
    {
        var b = _rt.NewBundle("kill9").Args("sleep", "30");
        var run = _rt.LaunchRun(b);
        _rt.WaitForStatus(b.Id, "running");
        _rt.InvokeOk("kill", b.Id, "KILL");
        var r = _rt.Finish(run);
        Assert.True(r.ExitCode == 137, "expected 128+9: " + r.Describe());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("TERM")]
    [InlineData("SIGTERM")]
    [InlineData("15")]
    public void Kill_DeliversTheSignal_InEverySpelling(string? signal)
    {
        var b = _rt.NewBundle("killsig").Sh(TrapScript);
        _rt.CreateAndStart(b);
        RuntimeFixture.Eventually(() => File.Exists(Path.Combine(b.RootFs, "tmp", "ready")), TimeSpan.FromSeconds(10), () => "the trap to be set");
        _rt.InvokeOk(signal is null ? ["kill", b.Id] : ["kill", b.Id, signal]);
        _rt.WaitForStatus(b.Id, "stopped");
        Assert.Equal("got-term", File.ReadAllText(Path.Combine(b.RootFs, "tmp", "term")).Trim());
    }

    [Fact]
    public void Kill_OfAStoppedContainer_Fails()
    {
        var b = _rt.NewBundle("killstop").Sh("exit 0");
        _rt.CreateAndStart(b);
        _rt.WaitForStatus(b.Id, "stopped");
        var r = _rt.Invoke("kill", b.Id, "KILL");
        Assert.True(r.ExitCode != 0, "killing a stopped container must fail: " + r.Describe());
    }

    private void WaitReady(Bundle b, RunningCommand run) =>
        RuntimeFixture.Eventually(
            () => File.Exists(Path.Combine(b.RootFs, "tmp", "ready")) || run.HasExited,
            TimeSpan.FromSeconds(10),
            () => "the container to set its TERM trap");
}
