using MiniDock.Runtime.Cgroups;

namespace MiniDock.Containers.Resources;

/// <summary>What the host's cgroups support, as Docker's pkg/sysinfo sees it; faked in unit tests.</summary>
public interface IResourceHost
{
    /// <summary>CPUs on the host: the upper bound of <c>--cpus</c>.</summary>
    int CpuCount { get; }

    /// <summary>Whether memory+swap can be limited (v1 memory.memsw.limit_in_bytes; v2 memory controller).</summary>
    bool SwapLimit { get; }

    /// <summary>Whether a block I/O weight file exists (v1 blkio.weight / blkio.bfq.weight; v2 io.weight).</summary>
    bool BlkioWeight { get; }

    /// <summary>True on a cgroup v2-only host: swappiness and the OOM-killer switch do not exist there.</summary>
    bool CgroupV2 { get; }

    /// <summary>The CPUs a cpuset may name ("0-3"); null: no cpuset controller.</summary>
    string? CpusetCpus { get; }

    /// <summary>The memory nodes a cpuset may name ("0"); null: no cpuset controller.</summary>
    string? CpusetMems { get; }
}

/// <summary>This host, asked through the engine (<see cref="CgroupHost"/>) once per fact.</summary>
public sealed class ResourceHost : IResourceHost
{
    private readonly Lazy<bool> _swap = new(CgroupHost.SwapLimit);
    private readonly Lazy<bool> _blkio = new(CgroupHost.BlkioWeight);
    private readonly Lazy<bool> _v2 = new(() => CgroupFs.IsUnified());
    private readonly Lazy<string?> _cpus = new(CgroupHost.CpusetCpus);
    private readonly Lazy<string?> _mems = new(CgroupHost.CpusetMems);

    public static ResourceHost Current { get; } = new();

    public int CpuCount => Environment.ProcessorCount;

    public bool SwapLimit => _swap.Value;

    public bool BlkioWeight => _blkio.Value;

    public bool CgroupV2 => _v2.Value;

    public string? CpusetCpus => _cpus.Value;

    public string? CpusetMems => _mems.Value;
}
