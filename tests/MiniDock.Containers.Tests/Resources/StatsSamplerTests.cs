using MiniDock.Containers.Resources;

namespace MiniDock.Containers.Tests.Resources;

public sealed class StatsSamplerTests
{
    [Fact]
    public void Cpu_percent_is_Dockers_formula()
    {
        // 0.5 s of container CPU in 2 s of host CPU time on 2 CPUs: 50%.
        Assert.Equal(50.0, StatsSampler.CpuPercent(1_000_000_000, 10_000_000_000, 1_500_000_000, 12_000_000_000, 2), 6);
        Assert.Equal(0.0, StatsSampler.CpuPercent(5, 10, 5, 20, 2)); // no container time
        Assert.Equal(0.0, StatsSampler.CpuPercent(5, 10, 9, 10, 2)); // no host time
        Assert.Equal(0.0, StatsSampler.CpuPercent(9, 10, 5, 20, 2)); // a counter reset
    }

    [Fact]
    public void System_cpu_sums_the_first_seven_fields_of_the_cpu_line_in_nanoseconds()
    {
        string[] stat = ["cpu  100 1 50 1000 5 2 3 7 0 0", "cpu0 50 0 25 500 2 1 1 0 0 0", "intr 1"];
        Assert.Equal((100UL + 1 + 50 + 1000 + 5 + 2 + 3) * 10_000_000, StatsSampler.SystemCpuNs(stat));
        Assert.Equal(0UL, StatsSampler.SystemCpuNs(["intr 1"]));
    }

    [Fact]
    public void Memory_percent_is_used_over_limit()
    {
        var s = new ContainerStats { Id = "a", Name = "b", MemoryUsage = 16 << 20, MemoryLimit = 64 << 20 };
        Assert.Equal(25.0, s.MemoryPercent, 6);
        Assert.Equal(0.0, new ContainerStats { Id = "a", Name = "b" }.MemoryPercent);
    }
}
