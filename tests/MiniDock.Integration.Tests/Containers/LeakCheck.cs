using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// What a MiniDock container holds on the host, read from the kernel and the file system rather than from MiniDock:
/// its cgroup directories (<c>/sys/fs/cgroup/CONTROLLER/minidock/ID</c>, the cgroup2 tree included), the processes in
/// them, its overlay mount, its runtime state (<c>RUN/runtime/ID</c>) and its directory (<c>DATA/containers/ID</c>);
/// and the container monitors of one MINIDOCK_ROOT. The kill tests compare <c>ps</c> with this, and assert that
/// <c>rm -f</c> leaves none of it.
/// </summary>
internal static class LeakCheck
{
    public const string CgroupRoot = "/sys/fs/cgroup";

    /// <summary>A process as first seen: its cmdline tells a recycled PID from the same process.</summary>
    public sealed record Seen(int Pid, string Cmdline);

    public static string RuntimeDir(MinidockCli cli, string id) => Path.Combine(cli.Root, "run", "runtime", id);

    public static string ContainerDir(MinidockCli cli, string id) => Path.Combine(cli.DataDir, "containers", id);

    /// <summary>The container's cgroup directories that exist now, under every hierarchy (v1 controllers and unified).</summary>
    public static IReadOnlyList<string> CgroupDirs(string id) =>
        [.. Directory.EnumerateDirectories(CgroupRoot).Select(c => Path.Combine(c, "minidock", id)).Where(Directory.Exists)];

    /// <summary>Every PID listed in any of the container's cgroups.</summary>
    public static IReadOnlyList<int> CgroupPids(string id)
    {
        var pids = new SortedSet<int>();
        foreach (var dir in CgroupDirs(id))
        {
            try
            {
                foreach (var line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                {
                    if (int.TryParse(line, out var pid))
                    {
                        pids.Add(pid);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Removed meanwhile.
            }
        }

        return [.. pids];
    }

    /// <summary>The live (non-zombie) processes of the container, with their command lines.</summary>
    public static IReadOnlyList<Seen> Processes(string id) =>
        [.. CgroupPids(id).Select(p => (Pid: p, Cmd: Cmdline(p))).Where(x => x.Cmd is not null && !RuntimeFixture.ProcessGone(x.Pid)).Select(x => new Seen(x.Pid, x.Cmd!))];

    /// <summary>
    /// The container's own processes: those that have left MiniDock's init for the user's command. An init parked on
    /// exec.fifo (a container that was created but never started) is <c>minidock init</c> and is not one of them.
    /// </summary>
    public static IReadOnlyList<Seen> Workload(string id) => [.. Processes(id).Where(s => !s.Cmdline.StartsWith("minidock ", StringComparison.Ordinal))];

    /// <summary>/proc/PID/cmdline with NULs as spaces, or null when the process is gone.</summary>
    public static string? Cmdline(int pid)
    {
        try
        {
            var raw = File.ReadAllText($"/proc/{pid}/cmdline");
            return raw.Length == 0 ? null : raw.TrimEnd('\0').Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True while this very process (same PID, same command line) is alive and not a zombie.</summary>
    public static bool Alive(Seen s) => !RuntimeFixture.ProcessGone(s.Pid) && Cmdline(s.Pid) == s.Cmdline;

    /// <summary>The container monitors (<c>minidock container-monitor ID</c>) running with this MINIDOCK_ROOT: PID and container ID.</summary>
    public static IReadOnlyList<(int Pid, string Id)> Monitors(MinidockCli cli)
    {
        var list = new List<(int, string)>();
        var want = "MINIDOCK_ROOT=" + cli.Root;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (argv.Length < 3 || argv[1] != "container-monitor" || RuntimeFixture.ProcessGone(pid))
                {
                    continue;
                }

                if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(want))
                {
                    list.Add((pid, argv[2]));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }

        return list;
    }

    /// <summary>SIGKILLs every process of the container and waits until none is left (zombies count as gone).</summary>
    public static IReadOnlyList<Seen> KillAll(string id, int extraPid = 0)
    {
        var killed = new List<Seen>();
        RuntimeFixture.Eventually(() =>
        {
            var procs = Processes(id).ToList();
            if (extraPid > 0 && Cmdline(extraPid) is { } c && !RuntimeFixture.ProcessGone(extraPid) && procs.All(p => p.Pid != extraPid))
            {
                procs.Add(new Seen(extraPid, c));
            }

            foreach (var p in procs)
            {
                Native.Kill(p.Pid, Native.SIGKILL);
                killed.Add(p);
            }

            return procs.Count == 0;
        }, TimeSpan.FromSeconds(15), () => $"the processes of container {id} to die: {string.Join(", ", Processes(id))}");
        return killed;
    }

    /// <summary>The <c>ps -a --format json</c> line of the container with this name, or null.</summary>
    public static JsonObject? PsEntry(MinidockCli cli, string name)
    {
        var r = cli.Ok("ps", "-a", "--no-trunc", "--format", "json");
        JsonObject? found = null;
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var o = JsonNode.Parse(line)!.AsObject();
            if ((string?)o["Names"] == name)
            {
                Assert.True(found is null, $"ps lists two containers named {name}:\n{r.Stdout}");
                found = o;
            }
        }

        return found;
    }

    /// <summary>The full ID of the container with this name, or null when MiniDock knows no such container.</summary>
    public static string? IdOf(MinidockCli cli, string name)
    {
        var r = cli.Run("inspect", "-f", "{{.Id}}", name);
        if (r.ExitCode != 0)
        {
            Assert.Contains("No such", r.Stderr, StringComparison.Ordinal);
            return null;
        }

        var id = r.Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", id);
        return id;
    }

    /// <summary><c>inspect NAME</c>'s State object.</summary>
    public static JsonObject InspectState(MinidockCli cli, string name)
    {
        var r = cli.Ok("inspect", name);
        return Assert.Single(JsonNode.Parse(r.Stdout)!.AsArray())!["State"]!.AsObject();
    }

    /// <summary>
    /// Asserts that nothing of these containers is left: no mount under MINIDOCK_ROOT, no cgroup directory, no
    /// runtime state dir, no container dir, and none of the processes seen alive; and that RUN/runtime and
    /// DATA/containers hold nothing at all (every container of this root is gone).
    /// </summary>
    public static void AssertNothingLeft(MinidockCli cli, IEnumerable<string> ids, IEnumerable<Seen> processes, string context)
    {
        var problems = new List<string>();
        foreach (var m in MountInfo.ReadSelf().Where(m => m.MountPoint.StartsWith(cli.Root + "/", StringComparison.Ordinal)))
        {
            problems.Add($"still mounted: {m.MountPoint} ({m.FsType})");
        }

        foreach (var id in ids.Distinct())
        {
            problems.AddRange(CgroupDirs(id).Select(d => $"cgroup dir left: {d} (procs: {string.Join(",", CgroupPids(id))})"));
            if (Directory.Exists(RuntimeDir(cli, id)))
            {
                problems.Add($"runtime state dir left: {RuntimeDir(cli, id)} ({string.Join(", ", Directory.EnumerateFileSystemEntries(RuntimeDir(cli, id)).Select(Path.GetFileName))})");
            }

            if (Directory.Exists(ContainerDir(cli, id)))
            {
                problems.Add($"container dir left: {ContainerDir(cli, id)}");
            }
        }

        problems.AddRange(processes.Where(Alive).Distinct().Select(s => $"process left: {s.Pid} {s.Cmdline}"));
        foreach (var dir in new[] { Path.Combine(cli.Root, "run", "runtime"), Path.Combine(cli.DataDir, "containers") })
        {
            if (Directory.Exists(dir))
            {
                problems.AddRange(Directory.EnumerateFileSystemEntries(dir).Select(e => $"left in {dir}: {Path.GetFileName(e)}"));
            }
        }

        Assert.True(problems.Count == 0, $"{context}: after rm -f something is left:\n{string.Join("\n", problems)}");
    }

    /// <summary>For failure messages: inspect's State, the runtime state dir's files, the cgroup's processes.</summary>
    public static string Describe(MinidockCli cli, string name, string id)
    {
        var runtime = RuntimeDir(cli, id);
        var files = Directory.Exists(runtime) ? string.Join(", ", Directory.EnumerateFileSystemEntries(runtime).Select(Path.GetFileName)) : "(no runtime dir)";
        return $"inspect State: {InspectState(cli, name).ToJsonString()}\nruntime dir: {files}\nprocesses: {string.Join("; ", Processes(id))}";
    }

    /// <summary><c>rm -f</c> of every container of this root (it must succeed).</summary>
    public static void RemoveAll(MinidockCli cli)
    {
        var ids = cli.Ok("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length > 0)
        {
            cli.Ok(["rm", "-f", .. ids]);
        }

        Assert.Equal("", cli.Ok("ps", "-aq").Stdout.Trim());
    }

    /// <summary>A seeded Random for a kill test: MINIDOCK_KILL_SEED repeats a run, otherwise a fresh seed (logged).</summary>
    public static Random SeededRandom(ITestOutputHelper output, out int seed)
    {
        seed = Environment.GetEnvironmentVariable("MINIDOCK_KILL_SEED") is { Length: > 0 } s
            ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (MINIDOCK_KILL_SEED={seed} repeats this run)");
        return new Random(seed);
    }

    /// <summary>
    /// The container named <paramref name="name"/> lost its owner (CLI or monitor, killed). Checks that <c>ps</c> tells
    /// the truth while its process lives (a live workload is "running", and "running" has a live PID), then kills
    /// its processes and checks that <c>ps</c> never says "running" again: exited with the lost status (255), or still
    /// created if it never started, or gone when it ran with --rm. Returns the ID (null when the owner died before
    /// the container was recorded) and every process seen, for <see cref="AssertNothingLeft"/>.
    /// </summary>
    public static (string? Id, List<Seen> Seen) AssertPsTrueAcrossDeath(MinidockCli cli, string name, bool autoRemove, string ctx)
    {
        var id = IdOf(cli, name);
        if (id is null)
        {
            Assert.True(PsEntry(cli, name) is null, $"{ctx}: inspect knows no {name} but ps lists it");
            return (null, []);
        }

        var seen = new List<Seen>(Processes(id));
        var workload = Workload(id);
        var before = PsEntry(cli, name);
        Assert.True(before is not null, $"{ctx}: ps -a does not list {name} ({id}) although inspect does");
        var stateBefore = (string?)before["State"];
        Assert.True(workload.Count == 0 || stateBefore == "running",
            $"{ctx}: the container's process is alive ({string.Join("; ", workload)}) but ps says {before.ToJsonString()}\n{Describe(cli, name, id)}");

        var inspected = InspectState(cli, name);
        var pid = (int?)inspected["Pid"] ?? 0;
        if ((string?)inspected["Status"] == "running")
        {
            Assert.True(pid > 0 && !RuntimeFixture.ProcessGone(pid), $"{ctx}: inspect says running with pid {pid}, which is not alive: {inspected.ToJsonString()}");
        }

        Assert.True(stateBefore is "running" or "created", $"{ctx}: a container whose owner was killed and whose process was not is {stateBefore}: {before.ToJsonString()}");
        var wasRunning = workload.Count > 0 || stateBefore == "running";

        // Its process dies (we kill it): nobody is left to record the exit.
        seen.AddRange(KillAll(id, pid));
        var after = PsEntry(cli, name);
        if (after is null)
        {
            Assert.True(autoRemove && wasRunning, $"{ctx}: {name} vanished from ps -a after its process died (--rm: {autoRemove}, it ran: {wasRunning})");
            Assert.Null(IdOf(cli, name));
            return (id, seen);
        }

        var stateAfter = (string?)after["State"];
        var state = InspectState(cli, name);
        Assert.True(stateAfter is "exited" or "created", $"{ctx}: its process is dead but ps says {after.ToJsonString()}");
        Assert.Equal(stateAfter, (string?)state["Status"]);
        if (wasRunning)
        {
            Assert.False(autoRemove, $"{ctx}: a --rm container that ran is still listed after its process died: {after.ToJsonString()}");
            Assert.True(stateAfter == "exited", $"{ctx}: it ran, so it must be exited now: {after.ToJsonString()}");
        }

        if (stateAfter == "exited")
        {
            Assert.True((int?)state["ExitCode"] == 255, $"{ctx}: nobody saw the exit, so the code must be 255: {state.ToJsonString()}");
            Assert.Contains("exit status lost", (string?)state["Error"] ?? "", StringComparison.Ordinal);
            Assert.StartsWith("Exited (255)", (string?)after["Status"] ?? "", StringComparison.Ordinal);
        }

        Assert.True(Workload(id).Count == 0, $"{ctx}: processes are back after the kill: {string.Join("; ", Processes(id))}");
        return (id, seen);
    }
}
