using System.Diagnostics;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Kills a container's owner (a foreground <c>run</c>, or the monitor of <c>start</c>) the moment the runtime has
/// written exec.fifo: the runtime state exists, the init is booting or parked, nothing is started. That moment is
/// caught by polling, so an attempt can overshoot (the container already runs): then it is removed and tried again.
/// </summary>
internal static class KillMidCreate
{
    private const int Attempts = 10;

    /// <summary>
    /// <paramref name="launch"/> starts the owner of container <paramref name="name"/> (the only container of this
    /// root); <paramref name="owner"/> says which PID to kill (0 while it is not known yet). Returns the container's
    /// ID and the processes it had after the kill.
    /// </summary>
    public static (string Id, List<LeakCheck.Seen> Procs) Run(MinidockCli cli, ITestOutputHelper output, string name,
        Func<string, RunningCommand> launch, Func<RunningCommand, string, int> owner)
    {
        var containers = Path.Combine(cli.DataDir, "containers");
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            string? id = null;
            var killed = 0;
            using (var cmd = launch(name))
            {
                var sw = Stopwatch.StartNew();
                while (killed == 0 && sw.Elapsed < TimeSpan.FromSeconds(30) && !(cmd.HasExited && (id is null || owner(cmd, id) == 0)))
                {
                    Thread.Yield();
                    id ??= Directory.Exists(containers) ? Directory.EnumerateDirectories(containers).Select(Path.GetFileName).FirstOrDefault() : null;
                    if (id is null)
                    {
                        continue;
                    }

                    var pid = owner(cmd, id);
                    if (pid > 0 && File.Exists(Path.Combine(LeakCheck.RuntimeDir(cli, id), "exec.fifo")))
                    {
                        Native.Kill(pid, Native.SIGKILL);
                        killed = pid;
                    }
                }

                if (killed == 0 && !cmd.HasExited)
                {
                    // Overshot into a running container (a foreground run waits for it): end the command first.
                    cmd.Signal(Native.SIGKILL);
                }

                var r = cmd.Wait(TimeSpan.FromSeconds(30));
                if (killed == 0)
                {
                    // The polling missed the window (a loaded machine): not a failure of MiniDock; try again.
                    output.WriteLine($"attempt {attempt}: never saw exec.fifo of {name} ({id ?? "no container dir"}) while its owner lived: {r.Describe()}");
                    LeakCheck.RemoveAll(cli);
                    continue;
                }

                output.WriteLine($"attempt {attempt}: owner {killed} killed at exec.fifo; {r.Describe()}");
                RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(killed), TimeSpan.FromSeconds(10), () => $"killed owner {killed} to be gone");
            }

            var procs = LeakCheck.Processes(id!).ToList();
            var ps = LeakCheck.PsEntry(cli, name);
            var runtimeLeft = Directory.Exists(LeakCheck.RuntimeDir(cli, id!));
            output.WriteLine($"attempt {attempt}: ps {ps?.ToJsonString() ?? "(none)"}; runtime dir left: {runtimeLeft}; processes: {string.Join("; ", procs)}");
            if (ps is not null && (string?)ps["State"] == "created" && runtimeLeft && LeakCheck.Workload(id!).Count == 0)
            {
                return (id!, procs);
            }

            // Overshot: the container got started before the kill landed. Start over.
            LeakCheck.RemoveAll(cli);
            LeakCheck.AssertNothingLeft(cli, [id!], procs, $"attempt {attempt} (overshot)");
        }

        Assert.Fail($"the owner of {name} could not be killed mid-create in {Attempts} attempts");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// <c>start</c> of that container succeeds: its stale runtime state and init are discarded, the command runs
    /// (its output reaches the log), ps says running; then <c>rm -f</c> leaves nothing.
    /// </summary>
    public static void AssertStartWorks(MinidockCli cli, ITestOutputHelper output, string name, string id, List<LeakCheck.Seen> oldProcs)
    {
        cli.Ok("start", name);
        var ps = LeakCheck.PsEntry(cli, name);
        Assert.True((string?)ps?["State"] == "running", $"after start: {ps?.ToJsonString()}");
        var state = LeakCheck.InspectState(cli, name);
        var pid = (int?)state["Pid"] ?? 0;
        Assert.True(pid > 0 && !RuntimeFixture.ProcessGone(pid), $"inspect after start: {state.ToJsonString()}");
        RuntimeFixture.Eventually(() => cli.Ok("logs", name).Stdout.Contains("started", StringComparison.Ordinal), TimeSpan.FromSeconds(15),
            () => "the restarted container's output in its log");
        var stale = oldProcs.Where(LeakCheck.Alive).ToList();
        Assert.True(stale.Count == 0, $"the killed owner's init is still alive after start: {string.Join("; ", stale)}");
        var now = LeakCheck.Processes(id).ToList();
        output.WriteLine($"started: pid {pid}; processes {string.Join("; ", now)}");
        Assert.Contains(now, p => p.Pid == pid);

        LeakCheck.RemoveAll(cli);
        LeakCheck.AssertNothingLeft(cli, [id], [.. oldProcs, .. now], "after start and rm -f");
    }
}
