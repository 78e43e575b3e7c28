using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// A detached container's owner is its monitor process (<c>minidock container-monitor ID</c>). SIGKILL of the monitor
/// must not take the container with it, nor make <c>ps</c> lie: the container runs on and shows as running,
/// stop/kill/rm -f still work, and once its process dies it shows as exited with the lost status (255). The monitor
/// is also killed at random points of <c>run -d</c>'s startup and of <c>start</c>'s create.
/// </summary>
public sealed class KillMonitorTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const int Iterations = 12;

    private const int MaxDelayMs = 200;

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("stop")]
    [InlineData("kill")]
    [InlineData("rm -f")]
    [InlineData("its process dying")]
    public void A_detached_container_outlives_its_killed_monitor_and_is_still_ended_by(string how)
    {
        var name = "det";
        var id = _cli.Ok("run", "-d", "--name", name, sandbox.Image, "sleep", "1000").Stdout.Trim();
        var monitor = Assert.Single(LeakCheck.Monitors(_cli), m => m.Id == id);
        var seen = new List<LeakCheck.Seen> { new(monitor.Pid, LeakCheck.Cmdline(monitor.Pid)!) };
        Native.Kill(monitor.Pid, Native.SIGKILL);
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(monitor.Pid), TimeSpan.FromSeconds(10), () => $"monitor {monitor.Pid} to die");

        // The container lives on, and ps says so (twice: looking must not change it).
        var state = LeakCheck.InspectState(_cli, name);
        var pid = (int?)state["Pid"] ?? 0;
        Assert.True((string?)state["Status"] == "running" && pid > 0, $"after the monitor's death: {state.ToJsonString()}");
        var workload = Assert.Single(LeakCheck.Workload(id));
        Assert.Equal(pid, workload.Pid);
        seen.Add(workload);
        for (var look = 0; look < 2; look++)
        {
            Assert.Equal("running", (string?)LeakCheck.PsEntry(_cli, name)?["State"]);
            Assert.Equal(id, _cli.Ok("ps", "-q", "--no-trunc").Stdout.Trim());
        }

        switch (how)
        {
            case "stop":
                _cli.Ok("stop", "-t", "1", name);
                break;
            case "kill":
                _cli.Ok("kill", name);
                break;
            case "rm -f":
                _cli.Ok("rm", "-f", name);
                Assert.True(RuntimeFixture.ProcessGone(pid), "rm -f returned while the container's process lives");
                Assert.Null(LeakCheck.IdOf(_cli, name));
                LeakCheck.AssertNothingLeft(_cli, [id], seen, "after rm -f");
                return;
            default:
                Native.Kill(pid, Native.SIGKILL);
                RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(pid), TimeSpan.FromSeconds(10), () => $"container process {pid} to die");
                break;
        }

        Assert.True(RuntimeFixture.ProcessGone(pid), $"after {how} the container's process {pid} lives");
        var ps = LeakCheck.PsEntry(_cli, name)!;
        Assert.Equal("exited", (string?)ps["State"]);
        Assert.StartsWith("Exited (255)", (string?)ps["Status"], StringComparison.Ordinal);
        state = LeakCheck.InspectState(_cli, name);
        Assert.Equal(255, (int?)state["ExitCode"]);
        Assert.Contains("exit status lost", (string?)state["Error"], StringComparison.Ordinal);
        Assert.Equal("", _cli.Ok("ps", "-q").Stdout.Trim());

        // It starts again with a new monitor, which records the real exit this time (SIGKILL after the 1 s of stop).
        _cli.Ok("start", name);
        Assert.Equal("running", (string?)LeakCheck.PsEntry(_cli, name)?["State"]);
        var second = Assert.Single(LeakCheck.Monitors(_cli), m => m.Id == id);
        seen.Add(new(second.Pid, LeakCheck.Cmdline(second.Pid)!));
        seen.AddRange(LeakCheck.Workload(id));
        _cli.Ok("stop", "-t", "1", name);
        state = LeakCheck.InspectState(_cli, name);
        Assert.True((string?)state["Status"] == "exited" && (int?)state["ExitCode"] == 137 && (string?)state["Error"] == "",
            $"a stop seen by its monitor: {state.ToJsonString()}");

        LeakCheck.RemoveAll(_cli);
        LeakCheck.AssertNothingLeft(_cli, [id], seen, $"after {how}, start, stop and rm -f");
    }

    [Fact]
    public void Ps_stays_true_and_rm_f_leaves_nothing_when_the_monitor_is_killed_at_random_points_of_run_d()
    {
        _cli.Ok("pull", sandbox.Image);
        var rng = LeakCheck.SeededRandom(output, out var seed);
        var ids = new List<string>();
        var seen = new List<LeakCheck.Seen>();
        for (var i = 0; i < Iterations; i++)
        {
            var name = $"det{i}";
            var delay = rng.Next(0, MaxDelayMs + 1);
            var ctx = $"seed {seed}, iteration {i} ({name}, monitor killed {delay} ms after it appeared)";
            using (var run = _cli.Start("run", "-d", "--name", name, sandbox.Image, "sh", "-c", "echo x; sleep 300"))
            {
                (int Pid, string Id) monitor = default;
                RuntimeFixture.Eventually(() => (monitor = LeakCheck.Monitors(_cli).FirstOrDefault()).Pid > 0 || run.HasExited, TimeSpan.FromSeconds(30),
                    () => $"{ctx}: the monitor to appear");
                Assert.True(monitor.Pid > 0, $"{ctx}: run -d ended without a monitor\nstdout: {run.StdoutSoFar}\nstderr: {run.StderrSoFar}");
                seen.Add(new(monitor.Pid, LeakCheck.Cmdline(monitor.Pid) ?? "minidock container-monitor " + monitor.Id));
                Thread.Sleep(delay);
                Native.Kill(monitor.Pid, Native.SIGKILL);
                var r = run.Wait(TimeSpan.FromSeconds(30));
                Assert.True(r.ExitCode is 0 or 125, $"{ctx}: run -d must succeed or fail with 125: {r.Describe()}");
                if (r.ExitCode == 0)
                {
                    Assert.Equal(monitor.Id, r.Stdout.Trim());
                }
                else
                {
                    Assert.True(r.Stderr.Trim().Split('\n').Length == 1, $"{ctx}: a failed run -d says why on one line: {r.Describe()}");
                }

                output.WriteLine($"{ctx}: run -d exited {r.ExitCode} [{r.Stdout.Trim()}] [{r.Stderr.Trim()}]");
                RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(monitor.Pid), TimeSpan.FromSeconds(10), () => $"monitor {monitor.Pid} to die");
            }

            var (id, procs) = LeakCheck.AssertPsTrueAcrossDeath(_cli, name, autoRemove: false, ctx);
            seen.AddRange(procs);
            Assert.True(id is not null, $"{ctx}: the container the monitor was started for is gone");
            ids.Add(id);
            output.WriteLine($"{ctx}: {id[..12]} ended as {LeakCheck.PsEntry(_cli, name)?["State"]}");
            LeakCheck.RemoveAll(_cli);
            LeakCheck.AssertNothingLeft(_cli, [id], procs, ctx);
        }

        Assert.Empty(LeakCheck.Monitors(_cli));
        LeakCheck.AssertNothingLeft(_cli, ids, seen, $"seed {seed}, after all iterations");
    }

    /// <summary>The monitor of <c>start</c> dies the moment exec.fifo exists; the next <c>start</c> works.</summary>
    [Fact]
    public void Start_runs_a_container_whose_monitor_was_killed_mid_create()
    {
        const string name = "startkill";
        var (id, oldProcs) = KillMidCreate.Run(_cli, output, name, n =>
        {
            if (LeakCheck.IdOf(_cli, n) is null)
            {
                _cli.Ok("create", "--name", n, sandbox.Image, "sh", "-c", "echo started; sleep 300");
            }

            return _cli.Start("start", n);
        }, owner: (_, cid) => LeakCheck.Monitors(_cli).FirstOrDefault(m => m.Id == cid).Pid);
        KillMidCreate.AssertStartWorks(_cli, output, name, id, oldProcs);
    }

    /// <summary>
    /// An owner killed between the runtime's mkdir of its state dir and its first write of state.json leaves an
    /// empty RUN/runtime/ID: <c>start</c> must discard it, not fail with "already exists".
    /// </summary>
    [Fact]
    public void Start_discards_an_empty_runtime_state_dir_left_by_a_killed_owner()
    {
        const string name = "emptystate";
        var id = _cli.Ok("create", "--name", name, sandbox.Image, "sh", "-c", "echo started; sleep 300").Stdout.Trim();
        Directory.CreateDirectory(LeakCheck.RuntimeDir(_cli, id));
        KillMidCreate.AssertStartWorks(_cli, output, name, id, []);
    }
}
