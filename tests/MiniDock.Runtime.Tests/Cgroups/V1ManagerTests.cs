using System.Diagnostics;
using MiniDock.Native;
using MiniDock.Runtime.Cgroups.V1;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Cgroups;

/// <summary>
/// The v1 driver on this host's real hierarchies: Set called again (as <c>update</c> does) in an order the
/// kernel accepts, stats read back, and SIGKILL of a paused (frozen) cgroup.
/// </summary>
public sealed class V1ManagerTests : IDisposable
{
    private const long Mib = 1024 * 1024;
    private readonly string _path = $"/minidock-unit-v1/{Guid.NewGuid():N}";
    private readonly List<Process> _children = [];
    private V1Manager? _cg;

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
        }

        try { _cg?.Thaw(); } catch (RuntimeError) { }
        _cg?.Destroy();
    }

    /// <summary>Skips, with the reason, without root or without a v1 memory hierarchy.</summary>
    public sealed class V1FactAttribute : FactAttribute
    {
        public V1FactAttribute()
        {
            Skip = Libc.geteuid() != 0 ? "needs root"
                : !File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? "no cgroup v1 memory hierarchy here"
                : null;
        }
    }

    private V1Manager Make()
    {
        _cg = new V1Manager(_path);
        _cg.Create();
        return _cg;
    }

    private string Mem(string file) => File.ReadAllText($"/sys/fs/cgroup/memory{_path}/{file}").Trim();

    [V1Fact]
    public void Memory_and_memsw_can_be_set_again_raising_and_lowering_and_unlimited()
    {
        var cg = Make();
        var memsw = File.Exists($"/sys/fs/cgroup/memory{_path}/memory.memsw.limit_in_bytes");
        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 64 * Mib, Swap = 128 * Mib } }, null);
        Assert.Equal((64 * Mib).ToString(), Mem("memory.limit_in_bytes"));

        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 512 * Mib, Swap = 1024 * Mib } }, null); // memsw first
        Assert.Equal((512 * Mib).ToString(), Mem("memory.limit_in_bytes"));

        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 16 * Mib, Swap = 24 * Mib } }, null); // memory first
        Assert.Equal((16 * Mib).ToString(), Mem("memory.limit_in_bytes"));

        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 2048 * Mib, Swap = -1 } }, null); // unlimited swap first
        Assert.Equal((2048 * Mib).ToString(), Mem("memory.limit_in_bytes"));

        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 16 * Mib, Swap = 24 * Mib } }, null);
        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = -1 } }, null); // -1 alone lifts memsw too
        Assert.True(long.Parse(Mem("memory.limit_in_bytes")) > 1L << 62);
        if (memsw)
        {
            Assert.True(long.Parse(Mem("memory.memsw.limit_in_bytes")) > 1L << 62);
            cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 16 * Mib, Swap = 24 * Mib } }, null);
            var e = Assert.Throws<RuntimeError>(() => cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 64 * Mib } }, null));
            Assert.Contains("memory+swap", e.Message, StringComparison.Ordinal);
        }
    }

    [V1Fact]
    public void Stats_read_the_controllers_and_sigkill_ends_a_frozen_cgroup_and_thaws_it()
    {
        var cg = Make();
        cg.Set(new ResourcesSpec { Memory = new MemorySpec { Limit = 64 * Mib }, Pids = new PidsSpec { Limit = 10 } }, null);
        // Memory is charged where it is allocated (no charge moves with a task), so the shell allocates only
        // once it is in the cgroup: it waits for the go file, fills a variable, then spins.
        var go = Path.Combine(Path.GetTempPath(), $"v1go-{Guid.NewGuid():N}");
        var p = Process.Start(new ProcessStartInfo("sh", ["-c", $"while [ ! -e {go} ]; do :; done; x=$(head -c 4000000 /dev/zero | tr '\\0' a); while :; do :; done"]) { UseShellExecute = false })!;
        _children.Add(p);
        cg.AddProcess(p.Id);
        File.WriteAllText(go, "");
        var until = Environment.TickCount64 + 5000;
        while ((cg.Stats().MemoryUsage < 1 << 20 || cg.Stats().Pids != 1) && Environment.TickCount64 < until)
        {
            Thread.Sleep(20);
        }

        File.Delete(go);

        var s = cg.Stats();
        Assert.Equal(1UL, s.Pids);
        Assert.Equal(10UL, s.PidsLimit);
        Assert.Equal((ulong)(64 * Mib), s.MemoryLimit);
        Assert.True(s.MemoryUsage >= 1 << 20, $"memory.usage_in_bytes counts the shell's 4 MB: {s.MemoryUsage}");
        Assert.True(s.CpuUsageNs > 0, "cpuacct.usage counts the loop");

        cg.Freeze();
        Assert.True(cg.IsFrozen());
        cg.Signal(Consts.SigKill);
        Assert.True(p.WaitForExit(5000), "SIGKILL of a frozen v1 cgroup must thaw it so the tasks die");
        Assert.False(cg.IsFrozen());
    }
}
