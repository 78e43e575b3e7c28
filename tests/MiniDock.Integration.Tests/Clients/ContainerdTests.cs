using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Containers;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Clients;

/// <summary>
/// containerd (1.6, shim runc v2) with MiniDock as its runc: <c>ctr run --runc-binary bin/minidock-runtime</c>. The shim
/// drives the runtime's whole command line (create/start/delete with --log-format json, exec --process --detach, kill,
/// ps --format json, pause/resume) and reads the container's cgroup itself (metrics), so these tests check what the
/// runtime did from containerd's side and from the host: exit statuses, pids, the cgroup at exactly the absolute path
/// containerd asked for (/NAMESPACE/ID), and nothing left behind (runtime state, cgroups, containers).
/// </summary>
public sealed partial class ContainerdTests : IClassFixture<ContainerdFixture>
{
    private static readonly TimeSpan Timeout = ContainerdFixture.CommandTimeout;

    private readonly ContainerdFixture _ctr;
    private readonly ITestOutputHelper _output;

    public ContainerdTests(ContainerdFixture ctr, ITestOutputHelper output)
    {
        _ctr = ctr;
        _output = output;
    }

    [Fact]
    public void OneShotRunExitsWithTheContainersStatusAndLeavesNothing()
    {
        var id = _ctr.NewId("oneshot");
        var r = Ctr(["run", "--rm", .. _ctr.RunFlags, _ctr.Image, id, "sh", "-c", "echo out; exit 4"]);

        Assert.True(r.ExitCode == 4, "ctr run exits with the container's status (4): " + Context(r));
        Assert.True(r.Stdout.Trim() == "out", "the container's stdout reaches ctr: " + Context(r));
        AssertGone(id);
    }

    [Fact]
    public void DetachedTaskExecPsCgroupAndSigterm()
    {
        var id = _ctr.NewId("detached");
        var log = Path.Combine(_ctr.Dir, id + ".log");
        // PID 1 of a pid namespace ignores SIGTERM unless it handles it (sleep would never die, with runc too): the shell
        // traps it and exits with the status of the interrupted `wait`, which is 128+15.
        const string Script = "trap 'st=$?; echo got TERM; exit $st' TERM; echo started; sleep 600 & wait";
        CtrOk(["run", "-d", .. _ctr.RunFlags, "--log-uri", "file://" + log, _ctr.Image, id, "sh", "-c", Script]);
        WaitForFile(log, "started\n");

        var (pid, status) = TaskRow(id) ?? throw new Xunit.Sdk.XunitException("task not listed: " + _ctr.LogTail());
        Assert.Equal("RUNNING", status);
        Assert.True(Native.Kill(pid, 0) == 0, $"the task's pid {pid} is alive on the host");
        Assert.True(
            ReadLink($"/proc/{pid}/ns/pid") != ReadLink("/proc/self/ns/pid"),
            "the container has its own pid namespace");

        // The runtime's own view, in the root containerd told it (proves MiniDock ran it, not the shim's default runc).
        var state = RuntimeOk("state", id);
        Assert.Matches($"\"pid\":\\s*{pid}\\b", state.Stdout);
        Assert.Matches("\"status\":\\s*\"running\"", state.Stdout);

        // exec, attached: its output and exit status come back through the shim.
        var exec = CtrOk("task", "exec", "--fifo-dir", _ctr.FifoDir, "--exec-id", "e1", id, "sh", "-c", "echo $$; id -u");
        var lines = exec.Stdout.Lines();
        Assert.True(lines.Length == 2 && int.TryParse(lines[0], out var execPid) && execPid > 1 && lines[1] == "0",
            "exec prints its pid in the container (not 1) and uid 0: " + Context(exec));
        var failing = Ctr("task", "exec", "--fifo-dir", _ctr.FifoDir, "--exec-id", "e2", id, "sh", "-c", "exit 7");
        Assert.True(failing.ExitCode == 7, "ctr task exec exits with the process's status: " + Context(failing));

        // A detached exec, then ps (the shim runs `ps --format json` and maps the pids).
        CtrOk("task", "exec", "-d", "--fifo-dir", _ctr.FifoDir, "--exec-id", "e3", id, "sleep", "300");
        var expectedPids = _ctr.ExpectedCgroupDir(id, "pids");
        int[] pids = [];
        CommandResult? ps = null;
        CliContainerSupport.Eventually(() =>
        {
            ps = CtrOk("task", "ps", id);
            pids = [.. ps.Stdout.Lines().Skip(1).Select(l => int.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]))];
            return pids.Length >= 3;
        }, "task ps lists init, its sleep and the exec'd sleep", () => Context(ps!));
        Assert.Contains(pid, pids);
        foreach (var p in pids)
        {
            Assert.True(HostCgroup.Dir(p, "pids") == expectedPids, $"pid {p} of task ps is in {expectedPids}: {Context(ps!)}");
        }

        // The cgroup is exactly the absolute cgroupsPath containerd gave: /NAMESPACE/ID under each hierarchy.
        var cgroupFile = File.ReadAllText($"/proc/{pid}/cgroup");
        Assert.True(HostCgroup.Dir(pid, "pids") == expectedPids, $"the init is in {expectedPids}:\n{cgroupFile}");
        Assert.True(HostCgroup.Dir(pid, "memory") == _ctr.ExpectedCgroupDir(id, "memory"), $"memory cgroup:\n{cgroupFile}");
        Assert.DoesNotContain("minidock", cgroupFile.Replace(_ctr.Namespace, "NS"), StringComparison.Ordinal);
        Assert.Contains(pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            File.ReadAllText(Path.Combine(expectedPids, "cgroup.procs")).Lines());

        // SIGTERM: the task stops with 143, which `task rm` reports.
        CtrOk("task", "kill", "-s", "SIGTERM", id);
        WaitForStatus(id, "STOPPED");
        WaitForFile(log, "got TERM\n");
        var rm = CtrOk("task", "rm", id);
        Assert.True(rm.Stderr.Contains("exit code 143", StringComparison.Ordinal), "task rm reports exit status 143: " + Context(rm));
        Assert.True(TaskRow(id) is null, "task rm removed the task");
        Assert.True(Native.Kill(pid, 0) != 0, $"pid {pid} is gone");
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    /// <summary><c>ctr run -d</c> of a container whose init sleeps, once its task is RUNNING.</summary>
    private void RunDetachedSleeper(string id)
    {
        CtrOk(["run", "-d", "--null-io", .. _ctr.RunFlags, _ctr.Image, id, "sleep", "600"]);
        WaitForStatus(id, "RUNNING");
    }

    [Fact]
    public void PauseAndResumeFreezeTheCgroup()
    {
        var id = _ctr.NewId("pause");
        RunDetachedSleeper(id);

        CtrOk("task", "pause", id);
        WaitForStatus(id, "PAUSED");
        Assert.True(Frozen(id), "the container's freezer says frozen while PAUSED");

        CtrOk("task", "resume", id);
        WaitForStatus(id, "RUNNING");
        Assert.False(Frozen(id), "thawed after resume");

        CtrOk("task", "kill", "-s", "SIGKILL", id);
        WaitForStatus(id, "STOPPED");
        var rm = CtrOk("task", "rm", id);
        Assert.True(rm.Stderr.Contains("exit code 137", StringComparison.Ordinal), "SIGKILL: exit status 137: " + Context(rm));
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    [Fact]
    public void MetricsAreReadFromTheContainersCgroup()
    {
        var id = _ctr.NewId("metrics");
        CtrOk(["run", "-d", "--null-io", .. _ctr.RunFlags, _ctr.Image, id, "sh", "-c", "sleep 600 & sleep 600 & wait"]);
        WaitForStatus(id, "RUNNING");
        CommandResult? m = null;
        CliContainerSupport.Eventually(() =>
        {
            m = CtrOk("task", "metrics", id);
            return MetricValue(m.Stdout, "pids.current") == 3;
        }, "task metrics counts the container's 3 processes (pids.current)", () => Context(m!));
        Assert.True(MetricValue(m!.Stdout, UnifiedCgroupsMemoryKey) > 0, "a memory usage line: " + Context(m));
        Remove(id);
    }

    [Fact]
    public void FailingStartReportsTheRuntimesErrorThroughTheShim()
    {
        var id = _ctr.NewId("nonexistent");
        var r = Ctr(["run", "--rm", .. _ctr.RunFlags, _ctr.Image, id, "/nonexistent"]);

        Assert.True(r.ExitCode != 0, "running a missing executable fails: " + Context(r));
        // The shim reads the runtime's last error from its --log-format json log and prefixes it.
        Assert.True(
            MissingExecutable().IsMatch(r.Stderr) && !r.Stderr.Contains("unable to retrieve OCI runtime error", StringComparison.Ordinal),
            "ctr's stderr carries the runtime's message about /nonexistent (from its JSON log): " + Context(r));
        AssertGone(id);
    }

    [Fact]
    public void MemoryLimitReachesTheCgroup()
    {
        const long Limit = 48L * 1024 * 1024;
        var id = _ctr.NewId("memory");
        CtrOk(["run", "-d", "--null-io", .. _ctr.RunFlags, "--memory-limit", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ctr.Image, id, "sleep", "600"]);
        var (pid, _) = WaitForStatus(id, "RUNNING");

        var dir = HostCgroup.Dir(pid, "memory");
        Assert.Equal(_ctr.ExpectedCgroupDir(id, "memory"), dir);
        var file = Path.Combine(dir!, ContainerdFixture.UnifiedCgroups ? "memory.max" : "memory.limit_in_bytes");
        Assert.Equal(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(file).Trim());
        Remove(id);
    }

    [Fact]
    public void KillAndForcedRemoveOfAStoppedTaskAreNotErrors()
    {
        var id = _ctr.NewId("stopped");
        CtrOk(["run", "-d", "--null-io", .. _ctr.RunFlags, _ctr.Image, id, "sh", "-c", "exit 3"]);
        WaitForStatus(id, "STOPPED");

        // The shim sorts a failed kill by runc's message: "container not running" means the process already finished
        // (NotFound, which `task rm -f` ignores); any other text is "unknown error after kill".
        var kill = Ctr("task", "kill", "-s", "SIGKILL", id);
        Assert.True(!kill.Stderr.Contains("unknown error after kill", StringComparison.Ordinal),
            "killing a stopped task is 'process already finished' for the shim: " + Context(kill));
        var rm = Ctr("task", "rm", "-f", id);
        Assert.True(rm.ExitCode == 0 && rm.Stderr.Contains("exit code 3", StringComparison.Ordinal),
            "task rm -f of a stopped task removes it and reports its status 3: " + Context(rm));
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    [Fact]
    public void SigkillReachesAPausedTask()
    {
        var id = _ctr.NewId("pausedkill");
        RunDetachedSleeper(id);
        CtrOk("task", "pause", id);
        WaitForStatus(id, "PAUSED");

        // runc thaws a paused container after sending SIGKILL (a frozen v1 cgroup holds the signal until thawed).
        CtrOk("task", "kill", "-s", "SIGKILL", id);
        WaitForStatus(id, "STOPPED");
        var rm = CtrOk("task", "rm", id);
        Assert.True(rm.Stderr.Contains("exit code 137", StringComparison.Ordinal), "SIGKILL: exit status 137: " + Context(rm));
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    [Fact]
    public void ConcurrentForcedDeletesBothSucceed()
    {
        var id = _ctr.NewId("racedelete");
        RunDetachedSleeper(id);

        // What the shim's cleanup (`delete --force` after the shim is gone) may do while another delete runs: runc's
        // `delete --force` of a container that is (or just became) absent succeeds.
        string[] args = ["--root", _ctr.RuntimeStateRoot, "delete", "--force", id];
        using var first = new RunningCommand(_ctr.Runtime, args, ioDir: _ctr.Dir);
        using var second = new RunningCommand(_ctr.Runtime, args, ioDir: _ctr.Dir);
        var r1 = first.Wait(Timeout);
        var r2 = second.Wait(Timeout);
        _output.WriteLine(r1.Describe());
        _output.WriteLine(r2.Describe());
        Assert.True(r1.ExitCode == 0 && r2.ExitCode == 0, $"both forced deletes succeed:\n{r1.Describe()}\n{r2.Describe()}");

        WaitForStatus(id, "STOPPED");
        CtrOk("task", "rm", id);
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    private static string UnifiedCgroupsMemoryKey => ContainerdFixture.UnifiedCgroups ? "memory.usage" : "memory.usage_in_bytes";

    [GeneratedRegex(@"OCI runtime create failed: .*/nonexistent.*no such file or directory")]
    private static partial Regex MissingExecutable();

    private CommandResult Ctr(params string[] args)
    {
        var r = _ctr.Ctr(Timeout, args);
        _output.WriteLine(r.Describe());
        return r;
    }

    private CommandResult CtrOk(params string[] args)
    {
        var r = Ctr(args);
        Assert.True(r.ExitCode == 0, "expected success: " + Context(r));
        return r;
    }

    private CommandResult RuntimeOk(params string[] args)
    {
        var r = _ctr.RuntimeCommand(args);
        _output.WriteLine(r.Describe());
        Assert.True(r.ExitCode == 0, "expected success: " + Context(r));
        return r;
    }

    private string Context(CommandResult r) => r.Describe() + "\n" + _ctr.LogTail();

    /// <summary>The task's pid and status from <c>ctr task ls</c>; null when it is not listed.</summary>
    private (int Pid, string Status)? TaskRow(string id)
    {
        var ls = CtrOk("task", "ls");
        foreach (var line in ls.Stdout.Lines().Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && f[0] == id)
            {
                return (int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), f[2]);
            }
        }

        return null;
    }

    private (int Pid, string Status) WaitForStatus(string id, string status)
    {
        (int Pid, string Status)? last = null;
        CliContainerSupport.Eventually(() => (last = TaskRow(id))?.Status == status, $"task {id} is {status}",
            () => $"last: {last?.ToString() ?? "not listed"}\n{_ctr.LogTail()}");
        return last!.Value;
    }

    private void WaitForFile(string path, string text) =>
        CliContainerSupport.Eventually(() => File.Exists(path) && File.ReadAllText(path).Contains(text, StringComparison.Ordinal),
            $"{path} holds '{text.Trim()}'", () => (File.Exists(path) ? File.ReadAllText(path) : "(no file)") + "\n" + _ctr.LogTail());

    /// <summary>SIGKILL, task rm, container rm; then nothing is left.</summary>
    private void Remove(string id)
    {
        CtrOk("task", "kill", "-s", "SIGKILL", id);
        WaitForStatus(id, "STOPPED");
        CtrOk("task", "rm", id);
        CtrOk("container", "rm", id);
        AssertGone(id);
    }

    /// <summary>No container, no task, no runtime state, no cgroup dir, and no shim warning about this id.</summary>
    private void AssertGone(string id)
    {
        var containers = CtrOk("container", "ls", "-q");
        Assert.True(!containers.Stdout.Lines().Contains(id), $"container {id} is still listed: " + Context(containers));
        Assert.True(TaskRow(id) is null, $"task {id} is still listed");

        CliContainerSupport.Eventually(() => !_ctr.RuntimeCommand("list", "-q").Stdout.Lines().Contains(id),
            $"the runtime root {_ctr.RuntimeStateRoot} has no state for {id}", () => _ctr.RuntimeCommand("list").Describe());
        var state = _ctr.RuntimeCommand("state", id);
        Assert.True(state.ExitCode != 0, $"runtime state {id} fails once the container is gone: " + state.Describe());

        CliContainerSupport.Eventually(() => _ctr.CgroupDirsOf(id).Count == 0, $"no cgroup dir /{_ctr.Namespace}/{id} is left",
            () => string.Join('\n', _ctr.CgroupDirsOf(id)));

        // Not asserted: containerd 1.6's `shim delete` now and then logs "failed to remove runc container ... exit status
        // 255" after a failed create, with runc as well (its SIGCHLD reaper wins the race for the runtime's exit status).
        foreach (var w in _ctr.ContainerdLog.Lines().Where(l => l.Contains(id, StringComparison.Ordinal)
                     && l.Contains("failed to remove runc container", StringComparison.Ordinal)))
        {
            _output.WriteLine("note: " + w);
        }
    }

    private bool Frozen(string id) => ContainerdFixture.UnifiedCgroups
        ? File.ReadAllText(Path.Combine(_ctr.ExpectedCgroupDir(id, "freezer"), "cgroup.freeze")).Trim() == "1"
        : File.ReadAllText(Path.Combine(_ctr.ExpectedCgroupDir(id, "freezer"), "freezer.state")).Trim() == "FROZEN";

    private static long MetricValue(string table, string key)
    {
        foreach (var line in table.Lines())
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 2 && f[0] == key && long.TryParse(f[1], out var v))
            {
                return v;
            }
        }

        return -1;
    }

    private static string ReadLink(string path) => new FileInfo(path).LinkTarget ?? "";
}
