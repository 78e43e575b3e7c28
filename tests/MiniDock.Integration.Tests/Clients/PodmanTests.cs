using System.Globalization;
using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Containers;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Clients;

/// <summary>
/// Podman with <c>--runtime bin/minidock-runtime</c>: conmon drives MiniDock through runc's command line (create with
/// --console-socket and --pid-file, start, state, kill, pause, resume, exec --process, delete). One-shot runs with their
/// exit codes, <c>-it</c> (the pty master handed back over the console socket), detached containers with exec, logs,
/// stop, kill and rm, resource flags in podman's absolute cgroupsPath (/libpod_parent/libpod-ID), and the states
/// podman reads back from the runtime.
/// </summary>
public sealed partial class PodmanTests : IClassFixture<PodmanFixture>, IDisposable
{
    private static readonly bool PureCgroup2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");

    private readonly PodmanFixture _podman;
    private readonly ITestOutputHelper _output;
    private readonly List<TmuxPane> _panes = [];

    public PodmanTests(PodmanFixture podman, ITestOutputHelper output)
    {
        _podman = podman;
        _output = output;
        _podman.Output = output;
    }

    private string Image => _podman.Image;

    public void Dispose()
    {
        foreach (var p in _panes)
        {
            p.Dispose();
        }

        try
        {
            if (PodmanFixture.MissingTools() is null)
            {
                // Every container goes, and with it (through the runtime's delete) its cgroups.
                _podman.RemoveAllContainers();
                var left = _podman.RemoveLeftCgroups();
                Assert.True(left.Count == 0, "cgroups left after podman rm -af: " + string.Join(", ", left));
            }
        }
        finally
        {
            _podman.Output = null;
        }
    }

    [PodmanFact]
    public void Run_rm_gives_back_the_exit_code_stdout_and_stderr_and_removes_the_container_and_its_cgroup()
    {
        var r = _podman.Run("run", "--rm", "--network", "none", Image, "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.True(r.ExitCode == 3, "the container's exit code is podman's: " + r.Describe());
        Assert.Equal("out\n", r.Stdout);
        Assert.Contains("err", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("out", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());

        // The runtime's delete took the container's cgroups with it (the container names its own cgroup).
        var self = _podman.Ok("run", "--rm", "--network", "none", "--cgroupns", "host", Image, "cat", "/proc/self/cgroup").Stdout;
        var m = Regex.Match(self, "/libpod_parent/libpod-([0-9a-f]{64})");
        Assert.True(m.Success, "the container's cgroup is podman's /libpod_parent/libpod-ID:\n" + self);
        var id = m.Groups[1].Value;
        _podman.Remember(id);
        Assert.True(PodmanFixture.CgroupDirs(id).Count == 0, "cgroups left after run --rm: " + string.Join(", ", PodmanFixture.CgroupDirs(id)));
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());

        // Exit 0 and a longer output come back whole too.
        var ok = _podman.Run("run", "--rm", "--network", "none", Image, "sh", "-c", "seq 1 2000");
        Assert.True(ok.ExitCode == 0, ok.Describe());
        Assert.Equal(string.Concat(Enumerable.Range(1, 2000).Select(i => $"{i}\n")), ok.Stdout);
    }

    [PodmanFact]
    public void Run_of_a_missing_command_is_127_and_of_a_non_executable_file_126_as_with_runc()
    {
        var cgroupsBefore = LibpodCgroups();
        var missing = _podman.Run("run", "--rm", "--network", "none", Image, "no-such-command");
        Assert.True(missing.ExitCode == 127, "podman maps the runtime's 'executable file not found' to 127: " + missing.Describe());
        Assert.Contains("executable file not found", missing.Stderr, StringComparison.Ordinal);
        Assert.Contains("no-such-command", missing.Stderr, StringComparison.Ordinal);

        var absent = _podman.Run("run", "--rm", "--network", "none", Image, "/no/such/file");
        Assert.True(absent.ExitCode == 127, "a missing absolute path is 127 too: " + absent.Describe());
        Assert.Contains("no such file or directory", absent.Stderr, StringComparison.Ordinal);

        var denied = _podman.Run("run", "--rm", "--network", "none", Image, "/etc/passwd");
        Assert.True(denied.ExitCode == 126, "podman maps the runtime's 'permission denied' to 126: " + denied.Describe());
        Assert.Contains("permission denied", denied.Stderr, StringComparison.Ordinal);

        // None of the failed starts is left behind: no container, and no cgroup of one (the failed create cleaned up).
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());
        var newCgroups = LibpodCgroups().Except(cgroupsBefore).ToList();
        Assert.True(newCgroups.Count == 0, "cgroups left by the failed starts: " + string.Join(", ", newCgroups));
    }

    [PodmanFact]
    public void Run_it_gives_a_pty_of_the_panes_size_that_follows_a_resize_takes_input_and_returns_the_exit_code()
    {
        var pane = Open(100, 30, "run", "-it", "--rm", "--network", "none", Image,
            "sh", "-c", "tty; stty size; while read x; do [ \"$x\" = q ] && exit 7; echo got-$x; stty size; done");
        pane.WaitForMatch("/dev/pts/[0-9]+");
        pane.WaitForLine("30 100");
        pane.TypeLine("hello");
        pane.WaitForLine("got-hello");

        // podman passes the new size to conmon, which sets it on the pty master it got from the runtime.
        pane.Resize(120, 40);
        var last = "";
        CliContainerSupport.Eventually(
            () =>
            {
                pane.TypeLine("again");
                Thread.Sleep(300);
                return (last = pane.Capture()).Split('\n').Any(l => l.TrimEnd() == "40 120");
            },
            "the container sees the new size",
            () => last);

        pane.TypeLine("q");
        pane.WaitForLine("EXIT=7");
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());
    }

    [PodmanFact]
    public void Exec_it_into_a_detached_container_gets_a_terminal_of_its_own()
    {
        var id = _podman.RunDetached("--name", "box", Image, "sleep", "1000");
        var pane = Open(90, 25, "exec", "-it", "box", "sh");
        pane.WaitForPrompt();
        pane.TypeLine("tty; stty size");
        pane.WaitForMatch("/dev/pts/[0-9]+");
        pane.WaitForLine("25 90");
        pane.TypeLine("echo host-$(hostname)");
        pane.WaitForLine("host-" + id[..12]);
        pane.TypeLine("exit 5");
        pane.WaitForLine("EXIT=5");

        // The exec's end is not the container's.
        Assert.Equal("running", _podman.InspectFormat("box", "{{.State.Status}}"));
    }

    [PodmanFact]
    public void Detached_run_exec_logs_stop_and_rm_work_and_stop_reaches_pid_1s_trap()
    {
        var id = _podman.RunDetached("--name", "web", Image, "sh", "-c", "echo started; trap \"echo bye; exit 0\" TERM; while true; do sleep 0.2; done");

        var ps = _podman.Ok("ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}").Stdout.Lines();
        var row = Assert.Single(ps);
        Assert.Matches($"^{id} web Up ", row);
        Assert.Equal("running", _podman.InspectFormat("web", "{{.State.Status}}"));
        var pid = int.Parse(_podman.InspectFormat("web", "{{.State.Pid}}"), CultureInfo.InvariantCulture);
        Assert.True(pid > 1 && Directory.Exists($"/proc/{pid}"), $"inspect's State.Pid {pid} is a live host process");

        var exec = _podman.Ok("exec", "web", "sh", "-c", "echo $$; cat /proc/1/cmdline");
        var lines = exec.Stdout.Split('\n', 2);
        Assert.True(int.TryParse(lines[0], out var execPid) && execPid > 1, "the exec is a new process in the container's PID namespace: " + exec.Describe());
        Assert.Equal("sh\0-c\0echo started; trap \"echo bye; exit 0\" TERM; while true; do sleep 0.2; done\0", lines[1]);

        var code = _podman.Run("exec", "web", "sh", "-c", "exit 4");
        Assert.True(code.ExitCode == 4, "exec returns its process's exit code: " + code.Describe());
        Assert.Equal("1000\n", _podman.Ok("exec", "-u", "1000", "web", "id", "-u").Stdout);
        Assert.Equal("/tmp\n", _podman.Ok("exec", "-w", "/tmp", "web", "pwd").Stdout);
        Assert.Equal("v\n", _podman.Ok("exec", "-e", "X=v", "web", "sh", "-c", "echo $X").Stdout);

        WaitForLog("web", "started");

        // SIGTERM reaches PID 1's trap: it says bye and exits 0 (a SIGKILL after the grace would make it 137).
        _podman.Ok("stop", "-t", "20", "web");
        var logs = _podman.Ok("logs", "web").Stdout;
        Assert.Equal("started\nbye\n", logs);
        Assert.Equal("exited 0", _podman.InspectFormat("web", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.Matches("^Exited \\(0\\) ", Assert.Single(_podman.Ok("ps", "-a", "--format", "{{.Status}}").Stdout.Lines()));
        Assert.Empty(_podman.Ok("ps", "-q").Stdout.Lines());

        _podman.Ok("rm", "web");
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());
        Assert.True(PodmanFixture.CgroupDirs(id).Count == 0, "cgroups left after rm: " + string.Join(", ", PodmanFixture.CgroupDirs(id)));
        Assert.True(RuntimeFixture.ProcessGone(pid), $"the container's PID 1 ({pid}) is gone");
    }

    [PodmanFact]
    public void Kill_of_a_detached_container_leaves_it_exited_137_and_wait_reports_it()
    {
        _podman.RunDetached("--name", "victim", Image, "sleep", "1000");
        Assert.Equal("running", _podman.InspectFormat("victim", "{{.State.Status}}"));
        _podman.Ok("kill", "victim");
        Assert.Equal("137\n", _podman.Ok("wait", "victim").Stdout);
        Assert.Equal("exited 137", _podman.InspectFormat("victim", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.Matches("^Exited \\(137\\) ", Assert.Single(_podman.Ok("ps", "-a", "--format", "{{.Status}}").Stdout.Lines()));

        // kill -s: another signal, chosen by name, reaches PID 1's handler.
        _podman.RunDetached("--name", "usr1", Image, "sh", "-c", "trap 'echo got-usr1; exit 42' USR1; echo ready; while true; do sleep 0.2; done");
        WaitForLog("usr1", "ready");
        _podman.Ok("kill", "-s", "USR1", "usr1");
        Assert.Equal("42\n", _podman.Ok("wait", "usr1").Stdout);
        Assert.Contains("got-usr1", _podman.Ok("logs", "usr1").Stdout, StringComparison.Ordinal);
    }

    [PodmanFact]
    public void Memory_and_pids_limits_and_default_ulimits_are_applied_inside_the_container()
    {
        const string script = """
            if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
              cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
            else
              cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max
            fi
            ulimit -n; ulimit -Hn; ulimit -u
            """;
        var r = _podman.Ok("run", "--rm", "--network", "none", "-m", "64m", "--pids-limit", "50", Image, "sh", "-c", script);
        Assert.Equal(["67108864", "50", "20000", "20000", "32768"], r.Stdout.Lines());

        // The pids limit bites: a shell starting 40 background sleeps cannot fork past 20 tasks (busybox sh gives up at
        // the first failed fork), while the same under a limit of 100 starts them all.
        const string forks = "for i in $(seq 1 40); do sleep 5 & echo $i; done";
        var capped = _podman.Run("run", "--rm", "--network", "none", "--pids-limit", "20", Image, "sh", "-c", forks);
        Assert.True(capped.ExitCode != 0, "forks past the limit fail: " + capped.Describe());
        Assert.Contains("can't fork", capped.Stderr, StringComparison.Ordinal);
        var started = capped.Stdout.Lines().Select(l => int.Parse(l, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
        Assert.True(started is >= 10 and < 20, $"{started} sleeps started under --pids-limit 20\n{capped.Describe()}");
        var roomy = _podman.Run("run", "--rm", "--network", "none", "--pids-limit", "100", Image, "sh", "-c", forks);
        Assert.True(roomy.ExitCode == 0, roomy.Describe());
        Assert.Equal("40", roomy.Stdout.Lines().Last());

        // Without the flag, podman's default pids limit (containers.conf pids_limit, 2048) is applied.
        var dflt = _podman.Ok("run", "--rm", "--network", "none", Image, "sh", "-c",
            "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max");
        Assert.Equal("2048\n", dflt.Stdout);
    }

    [PodmanFact]
    public void A_detached_containers_cgroup_is_podmans_absolute_cgroups_path_with_the_limit_and_goes_with_rm_f()
    {
        var id = _podman.RunDetached("--name", "limited", "-m", "64m", "--pids-limit", "50", Image, "sleep", "1000");
        var pid = int.Parse(_podman.InspectFormat("limited", "{{.State.Pid}}"), CultureInfo.InvariantCulture);

        // Honoured as given: /libpod_parent/libpod-ID at the root of each hierarchy, not under MiniDock's own /minidock.
        var memoryDir = PureCgroup2 ? $"/sys/fs/cgroup/libpod_parent/libpod-{id}" : $"/sys/fs/cgroup/memory/libpod_parent/libpod-{id}";
        var pidsDir = PureCgroup2 ? memoryDir : $"/sys/fs/cgroup/pids/libpod_parent/libpod-{id}";
        Assert.Equal(memoryDir, HostCgroup.Dir(pid, "memory"));
        Assert.Equal(pidsDir, HostCgroup.Dir(pid, "pids"));
        var procCgroup = File.ReadAllText($"/proc/{pid}/cgroup");
        Assert.DoesNotContain("minidock", procCgroup, StringComparison.Ordinal);
        Assert.Equal("67108864", File.ReadAllText(Path.Combine(memoryDir, PureCgroup2 ? "memory.max" : "memory.limit_in_bytes")).Trim());
        Assert.Equal("50", File.ReadAllText(Path.Combine(pidsDir, "pids.max")).Trim());
        Assert.Contains(pid.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(Path.Combine(memoryDir, "cgroup.procs")));

        // podman's own view agrees.
        Assert.Equal("67108864 50", _podman.InspectFormat("limited", "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}"));
        Assert.Equal($"/libpod_parent/libpod-{id}", _podman.InspectFormat("limited", "{{.State.CgroupPath}}"));

        _podman.Ok("rm", "-f", "-t", "0", "limited");
        Assert.Empty(_podman.Ok("ps", "-aq").Stdout.Lines());
        Assert.True(PodmanFixture.CgroupDirs(id).Count == 0, "cgroups left after rm -f: " + string.Join(", ", PodmanFixture.CgroupDirs(id)));
    }

    [PodmanFact]
    public void Ps_and_inspect_show_created_running_paused_and_exited_with_the_code()
    {
        var id = _podman.Ok("create", "--network", "none", "--name", "life", Image,
            "sh", "-c", "echo ready; trap 'exit 5' TERM; while true; do sleep 0.2; done").Stdout.Trim();
        _podman.Remember(id);
        Assert.Equal("created 0", _podman.InspectFormat("life", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.Equal("Created", Status("life"));
        Assert.Empty(_podman.Ok("ps", "-q").Stdout.Lines());

        _podman.Ok("start", "life");
        WaitForLog("life", "ready");
        Assert.Equal("running 0", _podman.InspectFormat("life", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.StartsWith("Up ", Status("life"), StringComparison.Ordinal);
        Assert.Equal(id, _podman.Ok("ps", "-q", "--no-trunc").Stdout.Trim());

        _podman.Ok("pause", "life");
        Assert.Equal("paused", _podman.InspectFormat("life", "{{.State.Status}}"));
        Assert.Equal("Paused", Status("life"));
        var pid = int.Parse(_podman.InspectFormat("life", "{{.State.Pid}}"), CultureInfo.InvariantCulture);
        var freezer = HostCgroup.Dir(pid, "freezer");
        if (!PureCgroup2 && freezer is not null)
        {
            Assert.Equal("FROZEN", File.ReadAllText(Path.Combine(freezer, "freezer.state")).Trim());
        }
        else if (PureCgroup2)
        {
            Assert.Equal("1", File.ReadAllText($"/sys/fs/cgroup/libpod_parent/libpod-{id}/cgroup.freeze").Trim());
        }

        _podman.Ok("unpause", "life");
        Assert.Equal("running", _podman.InspectFormat("life", "{{.State.Status}}"));
        Assert.StartsWith("Up ", Status("life"), StringComparison.Ordinal);
        Assert.Equal("alive\n", _podman.Ok("exec", "life", "echo", "alive").Stdout);
        if (!PureCgroup2 && freezer is not null)
        {
            Assert.Equal("THAWED", File.ReadAllText(Path.Combine(freezer, "freezer.state")).Trim());
        }

        _podman.Ok("stop", "-t", "10", "life");
        Assert.Equal("exited 5", _podman.InspectFormat("life", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.Matches("^Exited \\(5\\) ", Status("life"));

        // Started again, an exited container runs anew (a fresh runtime create and start).
        _podman.Ok("start", "life");
        WaitForLog("life", "ready\nready");
        Assert.Equal("running", _podman.InspectFormat("life", "{{.State.Status}}"));

        // A container that ends by itself: podman learns its code from conmon (the runtime's exit status).
        _podman.RunDetached("--name", "quick", Image, "sh", "-c", "exit 9");
        Assert.Equal("9\n", _podman.Ok("wait", "quick").Stdout);
        Assert.Equal("exited 9", _podman.InspectFormat("quick", "{{.State.Status}} {{.State.ExitCode}}"));
        Assert.Matches("^Exited \\(9\\) ", Status("quick"));
    }

    [PodmanFact]
    public void Top_lists_the_containers_processes()
    {
        _podman.RunDetached("--name", "topped", Image, "sh", "-c", "sleep 1000 & while true; do sleep 2000; done");
        var last = "";
        CliContainerSupport.Eventually(
            () =>
            {
                var r = _podman.Run("top", "topped", "pid", "args");
                last = r.Describe();
                return r.ExitCode == 0 && r.Stdout.Contains("sleep 1000", StringComparison.Ordinal) && r.Stdout.Contains("sleep 2000", StringComparison.Ordinal);
            },
            "podman top lists both sleeps",
            () => last);
        var rows = _podman.Ok("top", "topped", "pid", "args").Stdout.Lines().Skip(1).Select(l => PidRow().Match(l)).Where(m => m.Success).ToList();
        Assert.Contains(rows, m => m.Groups[1].Value == "1" && m.Groups[2].Value.StartsWith("sh -c", StringComparison.Ordinal));
    }

    [PodmanFact]
    public void User_flag_and_container_identity_reach_the_process()
    {
        Assert.Equal("1000\n", _podman.Ok("run", "--rm", "--network", "none", "--user", "1000", Image, "id", "-u").Stdout);
        Assert.Equal("1000:1000\n", _podman.Ok("run", "--rm", "--network", "none", "--user", "dev", Image, "sh", "-c", "echo $(id -u):$(id -g)").Stdout);

        var r = _podman.Ok("run", "--rm", "--network", "none", "--hostname", "podbox", "-e", "GREETING=hi there", "-w", "/tmp", Image,
            "sh", "-c", "echo $(hostname)/$GREETING/$(pwd)/$$");
        Assert.Equal("podbox/hi there//tmp/1\n", r.Stdout);

        // The rootfs is podman's overlay mount, read-only when asked.
        var ro = _podman.Run("run", "--rm", "--network", "none", "--read-only", Image, "sh", "-c", "touch /etc/x");
        Assert.True(ro.ExitCode != 0, "--read-only rootfs refuses writes: " + ro.Describe());
        Assert.Contains("Read-only file system", ro.Stdout + ro.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Every libpod-ID cgroup directory under /libpod_parent now, on every hierarchy.</summary>
    private static HashSet<string> LibpodCgroups() =>
    [
        .. Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup")
            .Select(c => Path.Combine(c, "libpod_parent")).Where(Directory.Exists)
            .SelectMany(p => Directory.EnumerateDirectories(p, "libpod-*")),
    ];

    [GeneratedRegex(@"^\s*(\d+)\s+(.*)$")]
    private static partial Regex PidRow();

    /// <summary><c>podman ps -a</c>'s Status column for one container.</summary>
    private string Status(string name)
    {
        var rows = _podman.Ok("ps", "-a", "--format", "{{.Names}}\t{{.Status}}").Stdout.Lines().Select(l => l.Split('\t', 2)).Where(p => p[0] == name).ToList();
        Assert.True(rows.Count == 1, $"podman ps -a has one row for {name}");
        return rows[0][1];
    }

    private void WaitForLog(string name, string text)
    {
        var last = "";
        CliContainerSupport.Eventually(
            () =>
            {
                var r = _podman.Run("logs", name);
                last = r.Describe();
                return (r.Stdout + r.Stderr).Contains(text, StringComparison.Ordinal);
            },
            $"the log of {name} shows '{text}'",
            () => last);
    }

    /// <summary>A tmux pane running <c>podman ARGS</c> with this fixture's environment and flags.</summary>
    private TmuxPane Open(int width, int height, params string[] args)
    {
        var command = _podman.ShellPrefix + " " + string.Join(' ', args.Select(PodmanFixture.Quote));
        _output.WriteLine("pane: " + command);
        var pane = new TmuxPane(Path.Combine(_podman.Dir, "tmux-" + Guid.NewGuid().ToString("N")[..8] + ".sock"), width, height, $"{command}; echo EXIT=$?; sleep 600", _output);
        _panes.Add(pane);
        return pane;
    }
}
