using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 memory controller: limit, reservation (soft limit), memory+swap, swappiness, OOM killer.</summary>
internal static class Memory
{
    public static void Apply(string dir, MemorySpec m)
    {
        // memsw must stay >= limit at every step: raise memsw first when growing, last when shrinking.
        var swapFirst = m.Swap is > 0 && m.Limit is > 0 && m.Swap > Current(dir, "memory.limit_in_bytes");
        if (swapFirst)
        {
            CgroupFs.TryWrite(dir, "memory.memsw.limit_in_bytes", m.Swap!.Value.ToString());
        }

        if (m.Limit is { } limit && limit != 0)
        {
            CgroupFs.Write(dir, "memory.limit_in_bytes", limit.ToString());
        }

        if (m.Swap is { } swap && swap != 0 && !swapFirst && !CgroupFs.TryWrite(dir, "memory.memsw.limit_in_bytes", swap.ToString()) && swap > 0)
        {
            throw new RuntimeError("memory.swap: this kernel has no swap accounting (memory.memsw.limit_in_bytes missing)");
        }

        if (m.Reservation is { } res && res != 0)
        {
            CgroupFs.Write(dir, "memory.soft_limit_in_bytes", res.ToString());
        }

        if (m.KernelTCP is { } ktcp && ktcp != 0)
        {
            CgroupFs.TryWrite(dir, "memory.kmem.tcp.limit_in_bytes", ktcp.ToString());
        }

        if (m.Swappiness is { } sw && sw <= 100)
        {
            CgroupFs.Write(dir, "memory.swappiness", sw.ToString());
        }
        else if (m.Swappiness is > 100)
        {
            throw new RuntimeError($"invalid memory swappiness {m.Swappiness}: must be 0..100");
        }

        if (m.DisableOOMKiller == true)
        {
            CgroupFs.Write(dir, "memory.oom_control", "1");
        }
    }

    /// <summary>memory.oom_control's <c>oom_kill</c> counter (kernel 4.13+); 0 when absent.</summary>
    public static long OomKills(string dir) => CgroupFs.KeyedValue(System.IO.Path.Combine(dir, "memory.oom_control"), "oom_kill");

    private static long Current(string dir, string file)
    {
        try
        {
            return long.Parse(CgroupFs.Read(dir, file));
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            return long.MaxValue;
        }
    }
}
