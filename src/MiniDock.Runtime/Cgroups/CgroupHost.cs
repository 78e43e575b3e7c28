using System.Globalization;

namespace MiniDock.Runtime.Cgroups;

/// <summary>
/// What this host's cgroups can do, asked before a container is made so that an unsupported limit is refused
/// with one clear line (as Docker's pkg/sysinfo does) instead of failing halfway through a start.
/// </summary>
public static class CgroupHost
{
    /// <summary>Whether memory+swap can be limited: v1 memory.memsw.limit_in_bytes exists (swap accounting is on); v2 has the memory controller.</summary>
    public static bool SwapLimit()
    {
        if (CgroupFs.IsUnified())
        {
            return Controllers().Contains("memory");
        }

        return V1.V1Manager.Discover(out _).TryGetValue("memory", out var m) && File.Exists(Path.Combine(m, "memory.memsw.limit_in_bytes"));
    }

    /// <summary>
    /// Whether a block I/O weight can be set: v1 blkio.weight (CFQ) or blkio.bfq.weight (BFQ), v2 io.weight or
    /// io.bfq.weight. The root cgroup of a v1 hierarchy has no BFQ files, so the engine's own parent
    /// (<c>/minidock</c>) is looked at too when it exists.
    /// </summary>
    public static bool BlkioWeight()
    {
        if (CgroupFs.IsUnified())
        {
            // The root has no io.* files of its own; a child gets io.weight (iocost) or io.bfq.weight (BFQ).
            var v2Parent = Path.Combine(CgroupFs.Root, "minidock");
            return Controllers().Contains("io")
                   && (!Directory.Exists(v2Parent) || File.Exists(Path.Combine(v2Parent, "io.weight")) || File.Exists(Path.Combine(v2Parent, "io.bfq.weight")));
        }

        if (!V1.V1Manager.Discover(out _).TryGetValue("blkio", out var b))
        {
            return false;
        }

        var parent = Path.Combine(b, "minidock");
        if (!Directory.Exists(parent))
        {
            // The engine makes this parent for its first container anyway; BFQ's files show only below the root.
            try { Directory.CreateDirectory(parent); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        return new[] { b, parent }.Any(d => File.Exists(Path.Combine(d, "blkio.weight")) || File.Exists(Path.Combine(d, "blkio.bfq.weight")));
    }

    /// <summary>The CPUs a container's cpuset may use (the root cpuset's effective list), e.g. "0-3"; null without cpuset.</summary>
    public static string? CpusetCpus() => CpusetFile("cpus");

    /// <summary>The memory nodes a container's cpuset may use, e.g. "0"; null without cpuset.</summary>
    public static string? CpusetMems() => CpusetFile("mems");

    /// <summary>MemTotal from /proc/meminfo in bytes: Docker's memory LIMIT for a container without one.</summary>
    public static ulong MemTotal()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return f.Length >= 2 && ulong.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : 0;
            }
        }

        return 0;
    }

    /// <summary>
    /// A cpuset list ("0-3,5") as its members; null when malformed (Docker's ParseUintList: ascending ranges of
    /// non-negative integers, no empty parts).
    /// </summary>
    public static SortedSet<int>? ParseList(string list)
    {
        var set = new SortedSet<int>();
        if (list.Length == 0)
        {
            return set;
        }

        foreach (var part in list.Split(','))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    return null;
                }

                set.Add(n);
                continue;
            }

            if (!int.TryParse(part.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var lo)
                || !int.TryParse(part.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var hi) || hi < lo || hi - lo > 1 << 16)
            {
                return null;
            }

            for (var i = lo; i <= hi; i++)
            {
                set.Add(i);
            }
        }

        return set;
    }

    private static string? CpusetFile(string kind)
    {
        try
        {
            if (CgroupFs.IsUnified())
            {
                var f = Path.Combine(CgroupFs.Root, $"cpuset.{kind}.effective");
                return File.Exists(f) ? File.ReadAllText(f).Trim() : null;
            }

            if (!V1.V1Manager.Discover(out _).TryGetValue("cpuset", out var m))
            {
                return null;
            }

            var eff = Path.Combine(m, $"cpuset.effective_{kind}");
            return File.ReadAllText(File.Exists(eff) ? eff : Path.Combine(m, $"cpuset.{kind}")).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string[] Controllers()
    {
        try
        {
            return CgroupFs.Read(CgroupFs.Root, "cgroup.controllers").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
    }
}
