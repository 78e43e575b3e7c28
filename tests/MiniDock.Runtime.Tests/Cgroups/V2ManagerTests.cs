using System.Diagnostics;
using MiniDock.Native;
using MiniDock.Runtime.Cgroups.V2;

namespace MiniDock.Runtime.Tests.Cgroups;

/// <summary>
/// The v2 driver's mechanics on a real cgroup2 mount: this hybrid host has one at
/// /sys/fs/cgroup/unified (no controllers, but attach, freeze and cgroup.kill work there).
/// The limits themselves need a v2 host with controllers: see docs/conformance.md.
/// </summary>
public sealed class V2ManagerTests : IDisposable
{
    private const string Mount = "/sys/fs/cgroup/unified";
    private readonly string _path = $"/minidock-unit/{Guid.NewGuid():N}";
    private readonly List<Process> _children = [];

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
        }

        foreach (var d in new[] { Mount + _path, Mount + "/minidock-unit" })
        {
            try { Directory.Delete(d); } catch (IOException) { }
        }
    }

    /// <summary>Skips, with the reason, where there is no root or no cgroup2 mount to work on.</summary>
    public sealed class Cgroup2FactAttribute : FactAttribute
    {
        public Cgroup2FactAttribute()
        {
            Skip = Libc.geteuid() != 0 ? "needs root"
                : !File.Exists(Path.Combine(Mount, "cgroup.procs")) ? $"no cgroup2 mount at {Mount}"
                : null;
        }
    }

    private int StartSleeper()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        _children.Add(p);
        return p.Id;
    }

    [Cgroup2Fact]
    public void Attach_freeze_thaw_kill_and_destroy_work_on_a_real_cgroup2_tree()
    {
        var cg = new V2Manager(Mount, _path);
        cg.Create();
        Assert.True(Directory.Exists(Mount + _path));

        var pid = StartSleeper();
        cg.AddProcess(pid);
        Assert.Contains(pid, cg.Pids());

        cg.Freeze(); // returns once cgroup.events says "frozen 1"
        Assert.True(cg.IsFrozen());
        Assert.Contains("frozen 1", File.ReadAllText(Mount + _path + "/cgroup.events"));
        cg.Thaw();
        Assert.False(cg.IsFrozen());

        cg.Signal(Consts.SigKill); // cgroup.kill
        _children[0].WaitForExit(5000);
        Assert.True(_children[0].HasExited, "cgroup.kill did not kill the process");

        cg.Destroy();
        Assert.False(Directory.Exists(Mount + _path));
        Assert.False(Directory.Exists(Mount + "/minidock-unit"), "the parent this manager created must go too");
    }

    /// <summary>Also skips on kernels before 5.14, which have no cgroup.kill.</summary>
    public sealed class CgroupKillFactAttribute : FactAttribute
    {
        public CgroupKillFactAttribute()
        {
            Skip = new Cgroup2FactAttribute().Skip ?? (Environment.OSVersion.Version < new Version(5, 14) ? "cgroup.kill needs Linux 5.14+" : null);
        }
    }

    [CgroupKillFact]
    public void Cgroup_kill_ends_a_frozen_cgroup_with_its_forks_and_leaves_nothing_frozen()
    {
        var cg = new V2Manager(Mount, _path);
        cg.Create();
        Assert.True(File.Exists(Mount + _path + "/cgroup.kill"), "a 5.14+ kernel gives every non-root cgroup a cgroup.kill");

        // A shell whose children are in the cgroup too: cgroup.kill must reach every one of them.
        // It forks only once it is inside (it waits for a line first): forks made before the move would stay outside.
        var sh = Process.Start(new ProcessStartInfo("sh", ["-c", "read go; sleep 60 & sleep 60 & wait"]) { UseShellExecute = false, RedirectStandardInput = true })!;
        _children.Add(sh);
        cg.AddProcess(sh.Id);
        sh.StandardInput.WriteLine("go");
        sh.StandardInput.Flush();
        var deadline = Environment.TickCount64 + 5000;
        while (cg.Pids().Count < 3 && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }

        var pids = cg.Pids();
        Assert.True(pids.Count >= 3, $"the shell and its two sleeps are in the cgroup: {string.Join(',', pids)}");
        var stats = cg.Stats();
        Assert.True(stats.Pids == 0 || stats.Pids == (ulong)pids.Count, $"pids.current {stats.Pids} (0 where the pids controller is not on this tree)");
        cg.Freeze();
        Assert.True(cg.IsFrozen());

        cg.Signal(Consts.SigKill); // cgroup.kill, while frozen: v2's freezer lets SIGKILL through
        Assert.True(sh.WaitForExit(5000), "cgroup.kill did not end the frozen shell");
        deadline = Environment.TickCount64 + 5000;
        while (cg.Pids().Count > 0 && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.Empty(cg.Pids());
        foreach (var pid in pids)
        {
            Assert.False(File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), $"{pid} survived cgroup.kill");
        }

        cg.Thaw();
        cg.Destroy();
        Assert.False(Directory.Exists(Mount + _path));
    }
}
