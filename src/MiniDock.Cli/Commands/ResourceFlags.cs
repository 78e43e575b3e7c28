using System.CommandLine;
using MiniDock.Containers.Config;
using MiniDock.Containers.Resources;

namespace MiniDock.Cli.Commands;

/// <summary>
/// The cgroup flags of <c>run</c>/<c>create</c> beyond -m/--cpus/--pids-limit (Docker's names,
/// https://docs.docker.com/engine/containers/resource_constraints/), read into <see cref="RunOptions"/> and checked
/// with Docker's rules and texts (<see cref="ResourceLimits.Check"/>) before anything is created.
/// </summary>
internal sealed class ResourceFlags
{
    /// <summary>
    /// <c>--cpus</c> of run, create and update, parsed only: the range (0.01 to the host's CPUs) is checked with the
    /// other limits in ResourceLimits, in Docker's words, so that both commands say the same.
    /// </summary>
    public static double ParseCpus(string s)
        => double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v)
            ? v
            : throw new ContainerException($"invalid argument \"{s}\" for \"--cpus\" flag: failed to parse {s} as a rational number");

    public Option<string?> MemoryReservation { get; } = new("--memory-reservation") { Description = "memory soft limit (e.g. 256m)" };

    public Option<string?> MemorySwap { get; } = new("--memory-swap") { Description = "memory plus swap limit; -1: unlimited swap (default: twice -m)" };

    public Option<long?> MemorySwappiness { get; } = new("--memory-swappiness") { Description = "swappiness 0-100 (cgroup v1)" };

    public Option<bool> OomKillDisable { get; } = new("--oom-kill-disable") { Description = "disable the OOM killer (cgroup v1)" };

    public Option<long?> CpuShares { get; } = new("--cpu-shares", "-c") { Description = "CPU shares (relative weight, default 1024)" };

    public Option<long?> CpuPeriod { get; } = new("--cpu-period") { Description = "CFS period in µs" };

    public Option<long?> CpuQuota { get; } = new("--cpu-quota") { Description = "CFS quota in µs per period" };

    public Option<string?> CpusetCpus { get; } = new("--cpuset-cpus") { Description = "CPUs to run on (0-3, 0,1)" };

    public Option<string?> CpusetMems { get; } = new("--cpuset-mems") { Description = "memory nodes to use (0-3, 0,1)" };

    public Option<long?> BlkioWeight { get; } = new("--blkio-weight") { Description = "block I/O weight, 10 to 1000" };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { MemoryReservation, MemorySwap, MemorySwappiness, OomKillDisable, CpuShares, CpuPeriod, CpuQuota, CpusetCpus, CpusetMems, BlkioWeight })
        {
            cmd.Options.Add(o);
        }
    }

    /// <summary>Reads the flags into <paramref name="o"/>, then checks and defaults all resource options; warnings go to stderr as Docker's do.</summary>
    public void Read(ParseResult p, RunOptions o)
    {
        o.MemoryReservation = p.GetValue(MemoryReservation) is { } r ? Units.ParseBytes(r) : null;
        o.MemorySwap = p.GetValue(MemorySwap) is { } s ? Swap(s) : null;
        o.MemorySwappiness = p.GetValue(MemorySwappiness);
        o.OomKillDisable = p.GetValue(OomKillDisable);
        o.CpuShares = p.GetValue(CpuShares);
        o.CpuPeriod = p.GetValue(CpuPeriod);
        o.CpuQuota = p.GetValue(CpuQuota);
        o.CpusetCpus = p.GetValue(CpusetCpus);
        o.CpusetMems = p.GetValue(CpusetMems);
        o.BlkioWeight = p.GetValue(BlkioWeight);
        foreach (var w in ResourceLimits.Check(o, ResourceHost.Current))
        {
            Console.Error.WriteLine("WARNING: " + w);
        }
    }

    /// <summary>--memory-swap: a size, or -1 for unlimited swap.</summary>
    public static long Swap(string text) => text == "-1" ? -1 : Units.ParseBytes(text);
}
