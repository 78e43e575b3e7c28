using MiniDock.Runtime.Cgroups;

namespace MiniDock.Runtime.Tests.Cgroups;

public sealed class CgroupStatsTests
{
    [Fact]
    public void V1_io_service_bytes_sums_reads_and_writes_over_devices_and_skips_total()
    {
        var (r, w) = CgroupStats.ParseIoServiceBytes(["8:0 Read 4096", "8:0 Write 1000", "8:0 Sync 5096", "8:16 Read 10", "8:16 Write 20", "Total 5126"]);
        Assert.Equal(4106UL, r);
        Assert.Equal(1020UL, w);
    }

    [Fact]
    public void V2_io_stat_sums_rbytes_and_wbytes()
    {
        var (r, w) = CgroupStats.ParseIoStat(["8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0", "253:0 rbytes=1 wbytes=2"]);
        Assert.Equal(4097UL, r);
        Assert.Equal(514UL, w);
    }

    [Theory]
    [InlineData(1000UL, 300UL, 700UL)]
    [InlineData(1000UL, 1000UL, 1000UL)] // Docker subtracts only a smaller cache
    [InlineData(1000UL, 0UL, 1000UL)]
    public void Used_memory_leaves_out_the_inactive_file_cache_as_Dockers_cli(ulong usage, ulong inactive, ulong used)
        => Assert.Equal(used, new CgroupStats { MemoryUsage = usage, InactiveFile = inactive }.MemoryUsedNoCache);

    [Fact]
    public void Limits_read_as_null_when_unlimited()
    {
        var dir = Directory.CreateTempSubdirectory("cgstats-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "memory.limit_in_bytes"), "9223372036854771712\n");
            File.WriteAllText(Path.Combine(dir, "memory.max"), "max\n");
            File.WriteAllText(Path.Combine(dir, "pids.max"), "64\n");
            Assert.Null(CgroupStats.ReadLimit(dir, "memory.limit_in_bytes"));
            Assert.Null(CgroupStats.ReadLimit(dir, "memory.max"));
            Assert.Null(CgroupStats.ReadLimit(dir, "absent"));
            Assert.Equal(64UL, CgroupStats.ReadLimit(dir, "pids.max"));
            Assert.Equal(0UL, CgroupStats.ReadNumber(dir, "absent"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("0-2,4", new[] { 0, 1, 2, 4 })]
    [InlineData("1", new[] { 1 })]
    [InlineData("", new int[0])]
    public void Cpuset_lists_parse(string list, int[] members) => Assert.Equal(members, CgroupHost.ParseList(list)!);

    [Theory]
    [InlineData("x")]
    [InlineData("3-1")]
    [InlineData("0,,1")]
    [InlineData("-1")]
    public void Malformed_cpuset_lists_are_null(string list) => Assert.Null(CgroupHost.ParseList(list));
}
