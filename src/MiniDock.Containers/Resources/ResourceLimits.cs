using MiniDock.Containers.Config;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Resources;

/// <summary>
/// The resource flags of <c>run</c>/<c>create</c>/<c>update</c> (-m, --memory-reservation, --memory-swap,
/// --memory-swappiness, --oom-kill-disable, --cpus, --cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus,
/// --cpuset-mems, --pids-limit, --blkio-weight) as Docker checks and defaults them (moby daemon/daemon_unix.go
/// verifyPlatformContainerResources and adaptContainerSettings, with Docker's error texts), and their
/// linux.resources form (config-linux.md#control-groups) for config.json and the engine's update.
/// </summary>
public static class ResourceLimits
{
    /// <summary>Docker's linuxMinMemory.</summary>
    public const long MinMemory = 6 << 20;

    private const long MinCpuShares = 2;
    private const long MaxCpuShares = 262144;

    /// <summary>
    /// Checks the flags against each other and this host, and fills Docker's defaults (memory+swap = 2×memory when
    /// only -m is given and swap can be limited). Returns Docker's warnings for what is discarded. Throws
    /// <see cref="ContainerException"/> (exit 125) before anything is created.
    /// </summary>
    public static IReadOnlyList<string> Check(RunOptions o, IResourceHost host)
    {
        var warnings = new List<string>();
        CheckHostIndependent(o, host.CpuCount);
        if (o.Memory is > 0 && o.MemorySwap is null or 0)
        {
            o.MemorySwap = host.SwapLimit ? o.Memory * 2 : null;
        }
        else if (o.MemorySwap is { } swap && swap != 0 && !host.SwapLimit)
        {
            warnings.Add("Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.");
            o.MemorySwap = null;
        }

        if (o.MemorySwappiness is not null && host.CgroupV2)
        {
            warnings.Add("Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.");
            o.MemorySwappiness = null;
        }

        if (o.OomKillDisable)
        {
            if (host.CgroupV2)
            {
                warnings.Add("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
                o.OomKillDisable = false;
            }
            else if (o.Memory is null or 0)
            {
                warnings.Add("OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.");
            }
        }

        if (o.BlkioWeight is > 0 && !host.BlkioWeight)
        {
            // Docker only warns and drops the weight; a user asking for one would never learn it did nothing.
            throw new ContainerException("Your kernel does not support Block I/O weight or the cgroup is not mounted: --blkio-weight cannot be applied on this host");
        }

        CheckCpuset(o.CpusetCpus, host.CpusetCpus, "cpus", "CPUs");
        CheckCpuset(o.CpusetMems, host.CpusetMems, "mems", "memory nodes");
        return warnings;
    }

    /// <summary>
    /// The checks that need no host facts beyond the CPU count; <see cref="ToSpec"/> runs them too, so a bundle is
    /// never built from options that skipped <see cref="Check"/>.
    /// </summary>
    public static void CheckHostIndependent(RunOptions o, int cpuCount)
    {
        if (o.Memory is { } m && m != 0 && m < MinMemory)
        {
            throw new ContainerException("Minimum memory limit allowed is 6MB");
        }

        if (o.MemoryReservation is { } r && r != 0 && r < MinMemory)
        {
            throw new ContainerException("Minimum memory reservation allowed is 6MB");
        }

        if (o.Memory is > 0 && o.MemorySwap is > 0 && o.MemorySwap < o.Memory)
        {
            throw new ContainerException("Minimum memoryswap limit should be larger than memory limit, see usage");
        }

        if (o.Memory is null or 0 && o.MemorySwap is > 0)
        {
            throw new ContainerException("You should always set the Memory limit when using Memoryswap limit, see usage");
        }

        if (o.MemorySwap is < -1)
        {
            throw new ContainerException($"invalid --memory-swap {o.MemorySwap}: want a size, or -1 for unlimited swap");
        }

        if (o.Memory is > 0 && o.MemoryReservation is > 0 && o.Memory < o.MemoryReservation)
        {
            throw new ContainerException("Minimum memory limit can not be less than memory reservation limit, see usage");
        }

        if (o.MemorySwappiness is { } sw && sw != -1 && sw is < 0 or > 100)
        {
            throw new ContainerException($"Invalid value: {sw}, valid memory swappiness range is 0-100");
        }

        if (o.Cpus is { } c && c != 0)
        {
            if (double.IsNaN(c) || c < 0.01 || c > cpuCount)
            {
                throw new ContainerException($"range of CPUs is from 0.01 to {cpuCount}.00, as there are only {cpuCount} CPUs available");
            }

            if (o.CpuPeriod is > 0)
            {
                throw new ContainerException("Conflicting options: Nano CPUs and CPU Period cannot both be set");
            }

            if (o.CpuQuota is > 0)
            {
                throw new ContainerException("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
            }
        }

        if (o.CpuPeriod is { } p && p != 0 && p is < 1000 or > 1000000)
        {
            throw new ContainerException("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
        }

        if (o.CpuQuota is > 0 and < 1000)
        {
            throw new ContainerException("CPU cfs quota can not be less than 1ms (i.e. 1000)");
        }

        if (o.CpuShares is < 0)
        {
            throw new ContainerException($"invalid --cpu-shares {o.CpuShares}: value must be a positive integer");
        }

        if (o.BlkioWeight is { } w && w != 0 && w is < 10 or > 1000)
        {
            throw new ContainerException("Range of blkio weight is from 10 to 1000");
        }

        if (o.CpusetCpus is { } cpus && CgroupHost.ParseList(cpus) is null)
        {
            throw new ContainerException($"Invalid value {cpus} for cpuset cpus");
        }

        if (o.CpusetMems is { } mems && CgroupHost.ParseList(mems) is null)
        {
            throw new ContainerException($"Invalid value {mems} for cpuset mems");
        }
    }

    /// <summary>
    /// linux.resources for the options (devices aside): null sections for what was not asked. --cpus becomes a quota
    /// over a 100 ms period; --cpu-shares is clamped to the kernel's [2, 262144] as Docker does; pids ≤ 0 and swap
    /// -1 mean unlimited (no pids section, swap -1).
    /// </summary>
    public static ResourcesSpec ToSpec(RunOptions o, int cpuCount)
    {
        CheckHostIndependent(o, cpuCount);
        var spec = new ResourcesSpec();
        if (o.Memory is > 0 || o.MemoryReservation is > 0 || o.MemorySwap is not (null or 0) || o.MemorySwappiness is >= 0 || o.OomKillDisable)
        {
            spec.Memory = new MemorySpec
            {
                Limit = o.Memory is > 0 ? o.Memory : null,
                Reservation = o.MemoryReservation is > 0 ? o.MemoryReservation : null,
                Swap = o.MemorySwap is not (null or 0) ? o.MemorySwap : null,
                Swappiness = o.MemorySwappiness is >= 0 and <= 100 ? (ulong)o.MemorySwappiness.Value : null,
                DisableOOMKiller = o.OomKillDisable ? true : null,
            };
        }

        long? quota = o.Cpus is { } c && c != 0 ? (long)Math.Round(c * 100000) : o.CpuQuota is { } q && q != 0 ? q : null;
        ulong? period = o.Cpus is { } c2 && c2 != 0 ? 100000UL : o.CpuPeriod is > 0 ? (ulong)o.CpuPeriod.Value : quota is not null ? 100000UL : null;
        ulong? shares = o.CpuShares is > 0 ? (ulong)Math.Clamp(o.CpuShares.Value, MinCpuShares, MaxCpuShares) : null;
        if (quota is not null || period is not null || shares is not null || !string.IsNullOrEmpty(o.CpusetCpus) || !string.IsNullOrEmpty(o.CpusetMems))
        {
            spec.Cpu = new CpuSpec
            {
                Shares = shares,
                Quota = quota,
                Period = period,
                Cpus = string.IsNullOrEmpty(o.CpusetCpus) ? null : o.CpusetCpus,
                Mems = string.IsNullOrEmpty(o.CpusetMems) ? null : o.CpusetMems,
            };
        }

        if (o.PidsLimit is > 0)
        {
            spec.Pids = new PidsSpec { Limit = o.PidsLimit.Value };
        }

        if (o.BlkioWeight is > 0)
        {
            spec.BlockIO = new BlockIoSpec { Weight = (ushort)o.BlkioWeight.Value };
        }

        return spec;
    }

    /// <summary>
    /// Docker's update (container/container_unix.go UpdateContainer): each given value replaces the stored one,
    /// after the same conflict checks (--cpus against a stored --cpu-period/--cpu-quota and back; a memory limit
    /// above the stored memory+swap limit without a new swap). Returns the merged options; the input is not changed.
    /// </summary>
    public static RunOptions Merge(RunOptions current, ResourceUpdate u)
    {
        var o = Store.RunOptionsJson.Read(Store.RunOptionsJson.Write(current));
        if (u.Cpus is > 0 && o.CpuPeriod is > 0)
        {
            throw new ContainerException("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
        }

        if (u.Cpus is > 0 && o.CpuQuota is > 0)
        {
            throw new ContainerException("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
        }

        if (u.CpuPeriod is > 0 && o.Cpus is > 0)
        {
            throw new ContainerException("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
        }

        if (u.CpuQuota is > 0 && o.Cpus is > 0)
        {
            throw new ContainerException("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
        }

        if (u.Memory is { } m && m != 0 && u.MemorySwap is null or 0 && o.MemorySwap is > 0 && m > o.MemorySwap)
        {
            throw new ContainerException("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time");
        }

        o.BlkioWeight = u.BlkioWeight is { } w && w != 0 ? w : o.BlkioWeight;
        o.CpuShares = u.CpuShares is { } s && s != 0 ? s : o.CpuShares;
        o.Cpus = u.Cpus is { } c && c != 0 ? c : o.Cpus;
        o.CpuPeriod = u.CpuPeriod is { } p && p != 0 ? p : o.CpuPeriod;
        o.CpuQuota = u.CpuQuota is { } q && q != 0 ? q : o.CpuQuota;
        o.CpusetCpus = string.IsNullOrEmpty(u.CpusetCpus) ? o.CpusetCpus : u.CpusetCpus;
        o.CpusetMems = string.IsNullOrEmpty(u.CpusetMems) ? o.CpusetMems : u.CpusetMems;
        o.Memory = u.Memory is { } mem && mem != 0 ? mem : o.Memory;
        o.MemorySwap = u.MemorySwap is { } sw && sw != 0 ? sw : o.MemorySwap;
        o.MemoryReservation = u.MemoryReservation is { } r && r != 0 ? r : o.MemoryReservation;
        o.PidsLimit = u.PidsLimit ?? o.PidsLimit;
        if (u.Restart is { Length: > 0 } restart)
        {
            var policy = RestartPolicy.Parse(restart);
            if (o.AutoRemove && policy.Name != "no")
            {
                throw new ContainerException("Restart policy cannot be updated because AutoRemove is enabled for the container");
            }

            o.Restart = restart;
        }

        return o;
    }

    /// <summary>
    /// What the engine's update writes for <paramref name="u"/> on a live container: the touched sections of the
    /// merged options' linux.resources. A pids limit of 0 or -1 lifts the limit ("max"), which an absent section
    /// could not say.
    /// </summary>
    public static ResourcesSpec UpdatePatch(RunOptions merged, ResourceUpdate u, int cpuCount)
    {
        var full = ToSpec(merged, cpuCount);
        var patch = new ResourcesSpec();
        if (u.Memory is not (null or 0) || u.MemorySwap is not (null or 0) || u.MemoryReservation is not (null or 0))
        {
            patch.Memory = full.Memory is { } m ? new MemorySpec { Limit = m.Limit, Swap = m.Swap, Reservation = m.Reservation } : null;
        }

        if (u.Cpus is not (null or 0) || u.CpuPeriod is not (null or 0) || u.CpuQuota is not (null or 0) || u.CpuShares is not (null or 0)
            || !string.IsNullOrEmpty(u.CpusetCpus) || !string.IsNullOrEmpty(u.CpusetMems))
        {
            patch.Cpu = full.Cpu;
        }

        if (u.PidsLimit is { } pl)
        {
            patch.Pids = new PidsSpec { Limit = pl > 0 ? pl : -1 };
        }

        if (u.BlkioWeight is not (null or 0))
        {
            patch.BlockIO = full.BlockIO;
        }

        return patch;
    }

    private static void CheckCpuset(string? requested, string? available, string kind, string what)
    {
        if (string.IsNullOrEmpty(requested))
        {
            return;
        }

        if (available is null)
        {
            throw new ContainerException($"Your kernel does not support cpuset or the cgroup is not mounted: --cpuset-{kind} cannot be applied");
        }

        var want = CgroupHost.ParseList(requested) ?? throw new ContainerException($"Invalid value {requested} for cpuset {kind}");
        var have = CgroupHost.ParseList(available) ?? [];
        if (!want.IsSubsetOf(have))
        {
            throw new ContainerException($"Requested {what} are not available - requested {requested}, available: {available}");
        }
    }
}

/// <summary>The flags of <c>minidock update</c>; null (or 0, as in Docker) means "keep the stored value".</summary>
public sealed class ResourceUpdate
{
    public long? Memory { get; init; }

    public long? MemoryReservation { get; init; }

    public long? MemorySwap { get; init; }

    public double? Cpus { get; init; }

    public long? CpuShares { get; init; }

    public long? CpuPeriod { get; init; }

    public long? CpuQuota { get; init; }

    public string? CpusetCpus { get; init; }

    public string? CpusetMems { get; init; }

    public long? PidsLimit { get; init; }

    public long? BlkioWeight { get; init; }

    public string? Restart { get; init; }

    /// <summary>True when some cgroup limit is given (a restart policy alone needs no engine call).</summary>
    public bool HasLimits => Memory is not (null or 0) || MemoryReservation is not (null or 0) || MemorySwap is not (null or 0) || Cpus is not (null or 0)
                             || CpuShares is not (null or 0) || CpuPeriod is not (null or 0) || CpuQuota is not (null or 0) || !string.IsNullOrEmpty(CpusetCpus)
                             || !string.IsNullOrEmpty(CpusetMems) || PidsLimit is not null || BlkioWeight is not (null or 0);
}
