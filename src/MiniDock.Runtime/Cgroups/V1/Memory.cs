using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 memory controller: limit, reservation (soft limit), memory+swap, swappiness, OOM killer.</summary>
internal static class Memory
{
    /// <summary>
    /// Writes the limits; safe to call again on a running cgroup (<c>update</c>). The kernel keeps
    /// memory.memsw.limit_in_bytes ≥ memory.limit_in_bytes at every write, so the order follows runc's
    /// setMemoryAndSwap: when both are given and the new swap is unlimited or above the current memory limit,
    /// memsw goes first (growing); otherwise the memory limit goes first (shrinking). A memory limit of -1
    /// with no swap given also lifts memsw, or the old memsw would cap it.
    /// </summary>
    public static void Apply(string dir, MemorySpec m)
    {
        var limit = m.Limit ?? 0;
        var swap = m.Swap ?? 0;
        var hasSwapFile = File.Exists(System.IO.Path.Combine(dir, "memory.memsw.limit_in_bytes"));
        if (limit == -1 && swap == 0 && hasSwapFile)
        {
            swap = -1;
        }

        if (swap > 0 && !hasSwapFile)
        {
            throw new RuntimeError("memory.swap: this kernel has no swap accounting (memory.memsw.limit_in_bytes missing)");
        }

        var swapFirst = limit != 0 && swap != 0 && (swap == -1 || swap > Current(dir, "memory.limit_in_bytes"));
        if (swapFirst)
        {
            WriteSwap(dir, swap, hasSwapFile);
        }

        if (limit != 0)
        {
            Write(dir, "memory.limit_in_bytes", limit, "memory limit");
        }

        if (!swapFirst && swap != 0)
        {
            WriteSwap(dir, swap, hasSwapFile);
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

    /// <summary>Usage, the inactive file cache Docker leaves out of it, and the limit (null: unlimited).</summary>
    public static (ulong Usage, ulong InactiveFile, ulong? Limit) Stats(string dir)
        => (CgroupStats.ReadNumber(dir, "memory.usage_in_bytes"),
            (ulong)Math.Max(0, CgroupFs.KeyedValue(System.IO.Path.Combine(dir, "memory.stat"), "total_inactive_file")),
            CgroupStats.ReadLimit(dir, "memory.limit_in_bytes"));

    private static void WriteSwap(string dir, long swap, bool hasSwapFile)
    {
        if (hasSwapFile)
        {
            Write(dir, "memory.memsw.limit_in_bytes", swap, "memory+swap limit");
        }
    }

    /// <summary>A limit write whose EINVAL/EBUSY says which rule it broke, not only the file name.</summary>
    private static void Write(string dir, string file, long value, string what)
    {
        try
        {
            CgroupFs.Write(dir, file, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (RuntimeError e)
        {
            var hint = file == "memory.limit_in_bytes" && value > 0
                ? " (the memory limit may not exceed the memory+swap limit, nor fall below current usage)"
                : file == "memory.memsw.limit_in_bytes" ? " (the memory+swap limit may not be below the memory limit)" : "";
            throw new RuntimeError($"set {what} to {value}: {e.Message}{hint}");
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
