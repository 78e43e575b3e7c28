using System.Globalization;

namespace MiniDock.Runtime.Cgroups;

/// <summary>
/// One reading of a container's cgroup counters, whatever the hierarchy: what <c>docker stats</c> shows
/// (moby's daemon/stats and the CLI's stats_helpers.go). Each driver fills it from its own files
/// (v1: cpuacct.usage, memory.usage_in_bytes/stat/limit_in_bytes, pids.current, blkio.throttle.io_service_bytes;
/// v2: cpu.stat, memory.current/stat/max, pids.current, io.stat), so no caller parses cgroup files itself.
/// </summary>
public sealed record CgroupStats
{
    /// <summary>Total CPU time of the cgroup's tasks, in nanoseconds (v1 cpuacct.usage; v2 cpu.stat usage_usec × 1000).</summary>
    public ulong CpuUsageNs { get; init; }

    /// <summary>Memory charged to the cgroup, page cache included (v1 memory.usage_in_bytes, v2 memory.current).</summary>
    public ulong MemoryUsage { get; init; }

    /// <summary>
    /// Inactive file cache (v1 memory.stat <c>total_inactive_file</c>, v2 <c>inactive_file</c>): the part of
    /// <see cref="MemoryUsage"/> Docker's CLI leaves out, since the kernel reclaims it first.
    /// </summary>
    public ulong InactiveFile { get; init; }

    /// <summary>The memory limit; null when unlimited (v1's huge page-rounded max, v2 "max") or the controller is absent.</summary>
    public ulong? MemoryLimit { get; init; }

    /// <summary>Tasks in the cgroup (pids.current); 0 without a pids controller.</summary>
    public ulong Pids { get; init; }

    /// <summary>pids.max; null when "max" or absent.</summary>
    public ulong? PidsLimit { get; init; }

    /// <summary>Bytes read from block devices (v1 throttle io_service_bytes "Read", v2 io.stat rbytes), all devices summed.</summary>
    public ulong BlockRead { get; init; }

    /// <summary>Bytes written to block devices, all devices summed.</summary>
    public ulong BlockWrite { get; init; }

    /// <summary>Docker's "used memory": usage minus the inactive file cache when that is smaller (calculateMemUsageUnixNoCache).</summary>
    public ulong MemoryUsedNoCache => InactiveFile < MemoryUsage ? MemoryUsage - InactiveFile : MemoryUsage;

    /// <summary>v1's "no limit" is LONG_MAX rounded down to a page: anything this large means unlimited.</summary>
    internal const ulong UnlimitedThreshold = 1UL << 62;

    /// <summary>A counter file holding one number; 0 when absent or unreadable.</summary>
    internal static ulong ReadNumber(string dir, string file)
    {
        var text = TryRead(dir, file);
        return text is not null && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>A limit file: a number, or "max"/absent/v1's near-LONG_MAX for none.</summary>
    internal static ulong? ReadLimit(string dir, string file)
    {
        var text = TryRead(dir, file);
        return text is not null && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < UnlimitedThreshold ? n : null;
    }

    /// <summary>
    /// v1 blkio.throttle.io_service_bytes: "MAJ:MIN Read N", "MAJ:MIN Write N", … and a "Total N" line.
    /// Reads and writes are summed over devices, as Docker's CLI does for BLOCK I/O.
    /// </summary>
    internal static (ulong Read, ulong Write) ParseIoServiceBytes(IEnumerable<string> lines)
    {
        ulong read = 0, write = 0;
        foreach (var line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 3 || !ulong.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                continue;
            }

            if (f[1].Equals("Read", StringComparison.OrdinalIgnoreCase))
            {
                read += n;
            }
            else if (f[1].Equals("Write", StringComparison.OrdinalIgnoreCase))
            {
                write += n;
            }
        }

        return (read, write);
    }

    /// <summary>v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N …" per device, summed.</summary>
    internal static (ulong Read, ulong Write) ParseIoStat(IEnumerable<string> lines)
    {
        ulong read = 0, write = 0;
        foreach (var line in lines)
        {
            foreach (var kv in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = kv.IndexOf('=');
                if (eq < 0 || !ulong.TryParse(kv.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                {
                    continue;
                }

                switch (kv[..eq])
                {
                    case "rbytes":
                        read += n;
                        break;
                    case "wbytes":
                        write += n;
                        break;
                }
            }
        }

        return (read, write);
    }

    internal static IEnumerable<string> Lines(string dir, string file)
    {
        var text = TryReadRaw(dir, file);
        return text is null ? [] : text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string? TryRead(string dir, string file) => TryReadRaw(dir, file)?.Trim();

    private static string? TryReadRaw(string dir, string file)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, file));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no such controller here, or the cgroup went away between two reads
            return null;
        }
    }
}
