using System.Text.Json;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Runtime.Tests.Lifecycle;

/// <summary><c>events --stats</c>: runc's Stats event shape (types/events.go), which the clients' parsers expect.</summary>
public sealed class EventsTests
{
    [Fact]
    public void A_stats_event_has_runcs_field_names_and_values()
    {
        var json = Events.StatsJson("c1", new CgroupStats { CpuUsageNs = 1234, MemoryUsage = 4096, MemoryLimit = 65536, Pids = 3, PidsLimit = 64, BlockRead = 10, BlockWrite = 20 });
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        Assert.Equal("stats", e.GetProperty("type").GetString());
        Assert.Equal("c1", e.GetProperty("id").GetString());
        var d = e.GetProperty("data");
        Assert.Equal(1234UL, d.GetProperty("cpu").GetProperty("usage").GetProperty("total").GetUInt64());
        Assert.Equal(65536UL, d.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64());
        Assert.Equal(4096UL, d.GetProperty("memory").GetProperty("usage").GetProperty("usage").GetUInt64());
        Assert.Equal(3UL, d.GetProperty("pids").GetProperty("current").GetUInt64());
        Assert.Equal(64UL, d.GetProperty("pids").GetProperty("limit").GetUInt64());
        var io = d.GetProperty("blkio").GetProperty("ioServiceBytesRecursive").EnumerateArray().ToDictionary(x => x.GetProperty("op").GetString()!, x => x.GetProperty("value").GetUInt64());
        Assert.Equal(10UL, io["Read"]);
        Assert.Equal(20UL, io["Write"]);
        Assert.Equal(30UL, io["Total"]);
    }

    [Fact]
    public void Unlimited_memory_is_the_largest_number_and_zero_counters_are_left_out_as_go_omitempty_does()
    {
        using var doc = JsonDocument.Parse(Events.StatsJson("c2", new CgroupStats()));
        var d = doc.RootElement.GetProperty("data");
        Assert.Equal(ulong.MaxValue, d.GetProperty("memory").GetProperty("usage").GetProperty("limit").GetUInt64());
        Assert.False(d.GetProperty("pids").TryGetProperty("current", out _));
        Assert.False(d.GetProperty("blkio").TryGetProperty("ioServiceBytesRecursive", out _));
        Assert.False(d.GetProperty("cpu").GetProperty("usage").TryGetProperty("total", out _));
    }
}
