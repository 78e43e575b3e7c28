using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>
/// v2 memory: memory.max, memory.low, memory.swap.max. OCI's swap is memory+swap (a v1 notion), so
/// v2's swap.max is swap − limit, as runc converts it.
/// </summary>
internal static class Memory
{
    /// <summary>memory.events' <c>oom_kill</c> counter; 0 when the memory controller is not enabled here.</summary>
    public static long OomKills(string dir) => CgroupFs.KeyedValue(System.IO.Path.Combine(dir, "memory.events"), "oom_kill");

    /// <summary>memory.current, memory.stat's <c>inactive_file</c>, and memory.max (null: "max").</summary>
    public static (ulong Usage, ulong InactiveFile, ulong? Limit) Stats(string dir)
        => (CgroupStats.ReadNumber(dir, "memory.current"),
            (ulong)Math.Max(0, CgroupFs.KeyedValue(System.IO.Path.Combine(dir, "memory.stat"), "inactive_file")),
            CgroupStats.ReadLimit(dir, "memory.max"));

    public static void Apply(string dir, MemorySpec m)
    {
        if (m.Limit is { } limit && limit != 0)
        {
            CgroupFs.Write(dir, "memory.max", limit < 0 ? "max" : limit.ToString());
        }

        if (m.Reservation is { } res && res != 0)
        {
            CgroupFs.Write(dir, "memory.low", res < 0 ? "max" : res.ToString());
        }

        if (m.Swap is { } swap && swap != 0)
        {
            var v = swap < 0 ? "max" : m.Limit is > 0 ? Math.Max(0, swap - m.Limit.Value).ToString() : swap.ToString();
            if (!CgroupFs.TryWrite(dir, "memory.swap.max", v) && swap > 0)
            {
                throw new RuntimeError("memory.swap: this kernel has no swap accounting (memory.swap.max missing)");
            }
        }

        if (m.DisableOOMKiller == true)
        {
            throw new RuntimeError("memory.disableOOMKiller is not supported on cgroup v2");
        }
    }
}
