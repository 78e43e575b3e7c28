using System.Globalization;
using MiniDock.Containers.Store;
using MiniDock.Runtime.Cgroups;

namespace MiniDock.Containers.Resources;

/// <summary>One row of <c>stats</c>: the numbers behind Docker's columns, computed as Docker's CLI does.</summary>
public sealed record ContainerStats
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>Docker's CPU %: container CPU time delta / host CPU time delta × online CPUs × 100.</summary>
    public double CpuPercent { get; init; }

    /// <summary>Memory in use, inactive file cache left out (calculateMemUsageUnixNoCache).</summary>
    public ulong MemoryUsage { get; init; }

    /// <summary>The cgroup's limit, or the host's memory when that is lower or there is no limit (as dockerd reports it).</summary>
    public ulong MemoryLimit { get; init; }

    public double MemoryPercent => MemoryLimit == 0 ? 0 : MemoryUsage * 100.0 / MemoryLimit;

    /// <summary>Network bytes; 0: containers have no network of their own yet (--network none/host).</summary>
    public ulong NetRx { get; init; }

    public ulong NetTx { get; init; }

    public ulong BlockRead { get; init; }

    public ulong BlockWrite { get; init; }

    public ulong Pids { get; init; }
}

/// <summary>
/// Samples containers' cgroups and the host's CPU time, keeping each container's previous reading so that CPU % is
/// over the interval between two calls (moby's cli/command/container/stats_helpers.go calculateCPUPercentUnix).
/// </summary>
public sealed class StatsSampler(ContainerService service, Func<ulong>? systemCpuNs = null, Func<ulong>? memTotal = null)
{
    /// <summary>USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture .NET runs on.</summary>
    private const ulong ClockTicksPerSecond = 100;

    private readonly Dictionary<string, (ulong Cpu, ulong System)> _previous = new(StringComparer.Ordinal);
    private readonly Func<ulong> _systemCpuNs = systemCpuNs ?? (() => SystemCpuNs(File.ReadLines("/proc/stat")));
    private readonly Lazy<ulong> _memTotal = new(memTotal ?? CgroupHost.MemTotal);

    /// <summary>
    /// Reads the container now. A container without a live cgroup reads as zeros (Docker shows stopped ones
    /// that way with -a). The first reading of a container has no interval yet: its CPU % is 0.
    /// </summary>
    public ContainerStats Sample(ContainerRow row)
    {
        var cg = service.CgroupStatsOf(row);
        var system = _systemCpuNs();
        if (cg is null)
        {
            _previous.Remove(row.Id);
            return new ContainerStats { Id = row.Id, Name = row.Name };
        }

        var cpu = 0.0;
        if (_previous.TryGetValue(row.Id, out var prev))
        {
            cpu = CpuPercent(prev.Cpu, prev.System, cg.CpuUsageNs, system, OnlineCpus());
        }

        _previous[row.Id] = (cg.CpuUsageNs, system);
        var host = _memTotal.Value;
        return new ContainerStats
        {
            Id = row.Id,
            Name = row.Name,
            CpuPercent = cpu,
            MemoryUsage = cg.MemoryUsedNoCache,
            MemoryLimit = cg.MemoryLimit is { } l && (host == 0 || l < host) ? l : host,
            BlockRead = cg.BlockRead,
            BlockWrite = cg.BlockWrite,
            Pids = cg.Pids,
        };
    }

    /// <summary>Docker's formula; 0 when either delta is not positive (no time passed, or a counter was reset).</summary>
    public static double CpuPercent(ulong prevCpu, ulong prevSystem, ulong cpu, ulong system, int onlineCpus)
    {
        var cpuDelta = (double)cpu - prevCpu;
        var systemDelta = (double)system - prevSystem;
        return systemDelta > 0 && cpuDelta > 0 ? cpuDelta / systemDelta * onlineCpus * 100.0 : 0;
    }

    /// <summary>
    /// The host's total CPU time in nanoseconds: the "cpu" line of /proc/stat, user through softirq (the first seven
    /// fields, as moby's getSystemCPUUsage sums them), converted from clock ticks.
    /// </summary>
    public static ulong SystemCpuNs(IEnumerable<string> procStat)
    {
        foreach (var line in procStat)
        {
            if (!line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                continue;
            }

            ulong ticks = 0;
            foreach (var f in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(7))
            {
                ticks += ulong.Parse(f, NumberStyles.None, CultureInfo.InvariantCulture);
            }

            return ticks * (1_000_000_000 / ClockTicksPerSecond);
        }

        return 0;
    }

    /// <summary>Online CPUs (/sys/devices/system/cpu/online), which Docker multiplies by; the process's count as a fallback.</summary>
    public static int OnlineCpus()
    {
        try
        {
            var list = CgroupHost.ParseList(File.ReadAllText("/sys/devices/system/cpu/online").Trim());
            return list is { Count: > 0 } ? list.Count : Environment.ProcessorCount;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
    }
}
