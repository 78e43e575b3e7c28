using MiniDock.Containers.Config;
using MiniDock.Containers.Resources;
using MiniDock.Containers.Store;
using MiniDock.Containers.Tests.Config;

namespace MiniDock.Containers.Tests.Resources;

public sealed class ResourceLimitsTests : IDisposable
{
    private const long Mib = 1024 * 1024;
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    private sealed class FakeHost : IResourceHost
    {
        public int CpuCount { get; init; } = 4;

        public bool SwapLimit { get; init; } = true;

        public bool BlkioWeight { get; init; } = true;

        public bool CgroupV2 { get; init; }

        public string? CpusetCpus { get; init; } = "0-3";

        public string? CpusetMems { get; init; } = "0";
    }

    [Fact]
    public void Swap_defaults_to_twice_the_memory_where_swap_can_be_limited_and_is_left_alone_otherwise()
    {
        var o = new RunOptions { Memory = 64 * Mib };
        Assert.Empty(ResourceLimits.Check(o, new FakeHost()));
        Assert.Equal(128 * Mib, o.MemorySwap);

        o = new RunOptions { Memory = 64 * Mib };
        Assert.Empty(ResourceLimits.Check(o, new FakeHost { SwapLimit = false }));
        Assert.Null(o.MemorySwap);

        o = new RunOptions { Memory = 64 * Mib, MemorySwap = -1 };
        ResourceLimits.Check(o, new FakeHost());
        Assert.Equal(-1, o.MemorySwap);

        o = new RunOptions { Memory = 64 * Mib, MemorySwap = 256 * Mib };
        Assert.Contains("swap limit capabilities", Assert.Single(ResourceLimits.Check(o, new FakeHost { SwapLimit = false })), StringComparison.Ordinal);
        Assert.Null(o.MemorySwap);
    }

    [Theory]
    [InlineData("Minimum memory limit allowed is 6MB", 1024L, null, null)]
    [InlineData("Minimum memoryswap limit should be larger than memory limit, see usage", 64L << 20, 32L << 20, null)]
    [InlineData("You should always set the Memory limit when using Memoryswap limit, see usage", null, 64L << 20, null)]
    [InlineData("Minimum memory reservation allowed is 6MB", null, null, 1024L)]
    [InlineData("Minimum memory limit can not be less than memory reservation limit, see usage", 64L << 20, null, 128L << 20)]
    public void Memory_rules_are_Dockers(string message, long? memory, long? swap, long? reservation)
        => Assert.Equal(message, Assert.Throws<ContainerException>(() => ResourceLimits.Check(new RunOptions { Memory = memory, MemorySwap = swap, MemoryReservation = reservation }, new FakeHost())).Message);

    [Fact]
    public void Cpu_cpuset_blkio_and_swappiness_rules_are_Dockers()
    {
        string Fails(RunOptions o, IResourceHost? host = null) => Assert.Throws<ContainerException>(() => ResourceLimits.Check(o, host ?? new FakeHost())).Message;
        Assert.Equal("Conflicting options: Nano CPUs and CPU Period cannot both be set", Fails(new RunOptions { Cpus = 1, CpuPeriod = 50000 }));
        Assert.Equal("Conflicting options: Nano CPUs and CPU Quota cannot both be set", Fails(new RunOptions { Cpus = 1, CpuQuota = 50000 }));
        Assert.Equal("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)", Fails(new RunOptions { CpuPeriod = 999 }));
        Assert.Equal("CPU cfs quota can not be less than 1ms (i.e. 1000)", Fails(new RunOptions { CpuQuota = 999 }));
        Assert.Equal("Range of blkio weight is from 10 to 1000", Fails(new RunOptions { BlkioWeight = 5 }));
        Assert.Contains("does not support Block I/O weight", Fails(new RunOptions { BlkioWeight = 500 }, new FakeHost { BlkioWeight = false }), StringComparison.Ordinal);
        Assert.Equal("Invalid value: 101, valid memory swappiness range is 0-100", Fails(new RunOptions { MemorySwappiness = 101 }));
        Assert.Equal("Invalid value 1-x for cpuset cpus", Fails(new RunOptions { CpusetCpus = "1-x" }));
        Assert.Equal("Requested CPUs are not available - requested 0-7, available: 0-3", Fails(new RunOptions { CpusetCpus = "0-7" }));
        Assert.Equal("Requested memory nodes are not available - requested 1, available: 0", Fails(new RunOptions { CpusetMems = "1" }));
        Assert.Empty(ResourceLimits.Check(new RunOptions { CpusetCpus = "1,3", CpusetMems = "0", CpuQuota = 50000, CpuPeriod = 100000, BlkioWeight = 300 }, new FakeHost()));
    }

    [Fact]
    public void V2_only_options_are_discarded_with_Dockers_warnings()
    {
        var o = new RunOptions { Memory = 64 * Mib, MemorySwappiness = 10, OomKillDisable = true };
        var warnings = ResourceLimits.Check(o, new FakeHost { CgroupV2 = true });
        Assert.Equal(2, warnings.Count);
        Assert.Null(o.MemorySwappiness);
        Assert.False(o.OomKillDisable);
    }

    [Fact]
    public void ToSpec_maps_every_flag_to_linux_resources()
    {
        var spec = ResourceLimits.ToSpec(new RunOptions
        {
            Memory = 64 * Mib, MemorySwap = 128 * Mib, MemoryReservation = 32 * Mib, MemorySwappiness = 0, OomKillDisable = true, CpuShares = 1,
            CpuQuota = 25000, CpuPeriod = 50000, CpusetCpus = "0", CpusetMems = "0", PidsLimit = 12, BlkioWeight = 300,
        }, 4);
        Assert.Equal(64 * Mib, spec.Memory!.Limit);
        Assert.Equal(128 * Mib, spec.Memory.Swap);
        Assert.Equal(32 * Mib, spec.Memory.Reservation);
        Assert.Equal(0UL, spec.Memory.Swappiness);
        Assert.True(spec.Memory.DisableOOMKiller);
        Assert.Equal(2UL, spec.Cpu!.Shares); // clamped to the kernel's minimum, as Docker
        Assert.Equal(25000, spec.Cpu.Quota);
        Assert.Equal(50000UL, spec.Cpu.Period);
        Assert.Equal("0", spec.Cpu.Cpus);
        Assert.Equal(12, spec.Pids!.Limit);
        Assert.Equal((ushort)300, spec.BlockIO!.Weight);

        var none = ResourceLimits.ToSpec(new RunOptions(), 4);
        Assert.Null(none.Memory);
        Assert.Null(none.Cpu);
        Assert.Null(none.Pids);
        Assert.Null(none.BlockIO);
    }

    [Fact]
    public void Config_json_carries_the_new_flags()
    {
        var res = SpecAssert.Parse(_f.Build(options: new RunOptions
        {
            Memory = 64 * Mib, MemorySwap = -1, MemoryReservation = 16 * Mib, CpuShares = 512, CpusetCpus = "0-1", CpusetMems = "0", BlkioWeight = 100,
        })).Linux!.Resources!;
        Assert.Equal(-1, res.Memory!.Swap);
        Assert.Equal(16 * Mib, res.Memory.Reservation);
        Assert.Equal(512UL, res.Cpu!.Shares);
        Assert.Null(res.Cpu.Quota);
        Assert.Equal("0-1", res.Cpu.Cpus);
        Assert.Equal("0", res.Cpu.Mems);
        Assert.Equal((ushort)100, res.BlockIO!.Weight);
        Assert.NotEmpty(res.Devices!); // the device rules are still written before the limits
    }

    [Fact]
    public void Update_merges_as_Docker_and_refuses_its_conflicts()
    {
        var stored = new RunOptions { Image = "x", Memory = 64 * Mib, MemorySwap = 128 * Mib, Cpus = 1, PidsLimit = 50, AutoRemove = true };
        var merged = ResourceLimits.Merge(stored, new ResourceUpdate { Memory = 100 * Mib, PidsLimit = 7, CpusetCpus = "1" });
        Assert.Equal(100 * Mib, merged.Memory);
        Assert.Equal(128 * Mib, merged.MemorySwap);
        Assert.Equal(7, merged.PidsLimit);
        Assert.Equal("1", merged.CpusetCpus);
        Assert.Equal(1.0, merged.Cpus);
        Assert.Equal(64 * Mib, stored.Memory); // the stored options are not changed in place

        string Fails(ResourceUpdate u) => Assert.Throws<ContainerException>(() => ResourceLimits.Merge(stored, u)).Message;
        Assert.Equal("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time", Fails(new ResourceUpdate { Memory = 256 * Mib }));
        Assert.Equal("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set", Fails(new ResourceUpdate { CpuQuota = 50000 }));
        Assert.Equal("Restart policy cannot be updated because AutoRemove is enabled for the container", Fails(new ResourceUpdate { Restart = "always" }));
        Assert.Equal(256 * Mib, ResourceLimits.Merge(stored, new ResourceUpdate { Memory = 256 * Mib, MemorySwap = 512 * Mib }).Memory);
    }

    [Fact]
    public void The_engine_patch_names_only_what_was_updated_and_lifts_a_pids_limit_with_max()
    {
        var stored = new RunOptions { Memory = 64 * Mib, MemorySwap = 128 * Mib, PidsLimit = 50, CpusetCpus = "0" };
        var u = new ResourceUpdate { PidsLimit = -1 };
        var patch = ResourceLimits.UpdatePatch(ResourceLimits.Merge(stored, u), u, 4);
        Assert.Equal(-1, patch.Pids!.Limit);
        Assert.Null(patch.Memory);
        Assert.Null(patch.Cpu);

        u = new ResourceUpdate { Memory = 100 * Mib };
        patch = ResourceLimits.UpdatePatch(ResourceLimits.Merge(stored, u), u, 4);
        Assert.Equal(100 * Mib, patch.Memory!.Limit);
        Assert.Equal(128 * Mib, patch.Memory.Swap);
        Assert.Null(patch.Pids);
        Assert.False(new ResourceUpdate { Restart = "always" }.HasLimits);
    }

    [Fact]
    public void Resource_options_survive_the_stored_json_and_old_rows_read_as_unset()
    {
        var o = new RunOptions
        {
            Image = "x", MemoryReservation = 1, MemorySwap = -1, MemorySwappiness = 0, OomKillDisable = true, CpuShares = 512, CpuPeriod = 1000,
            CpuQuota = 2000, CpusetCpus = "0-1", CpusetMems = "0", BlkioWeight = 10,
        };
        var back = RunOptionsJson.Read(RunOptionsJson.Write(o));
        Assert.Equal(RunOptionsJson.Write(o), RunOptionsJson.Write(back));
        Assert.Equal(-1, back.MemorySwap);
        Assert.Equal(0, back.MemorySwappiness);
        Assert.True(back.OomKillDisable);
        Assert.Equal("0-1", back.CpusetCpus);

        var old = RunOptionsJson.Read("""{"Image":"x","Memory":6291456}""");
        Assert.Null(old.MemorySwap);
        Assert.Null(old.CpusetCpus);
        Assert.False(old.OomKillDisable);
    }
}
