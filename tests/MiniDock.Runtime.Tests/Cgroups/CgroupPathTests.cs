using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Cgroups.V2;

namespace MiniDock.Runtime.Tests.Cgroups;

public sealed class CgroupPathTests
{
    [Theory]
    [InlineData(null, "c1", "/minidock/c1")]
    [InlineData("", "c1", "/minidock/c1")]
    [InlineData("foo/bar", "c1", "/minidock/foo/bar")]
    [InlineData("/libpod_parent/libpod-abc", "c1", "/libpod_parent/libpod-abc")]
    [InlineData("/default/c1", "c1", "/default/c1")]
    [InlineData("//a//b/", "c1", "/a/b")]
    public void Relative_and_empty_paths_go_under_minidock_absolute_ones_are_honoured(string? path, string id, string expected)
        => Assert.Equal(expected, CgroupFs.ResolvePath(path, id));

    [Fact]
    public void Dot_dot_is_refused() => Assert.Throws<RuntimeError>(() => CgroupFs.ResolvePath("/a/../../etc", "c1"));

    [Theory]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(262144UL, 10000UL)]
    public void Shares_map_onto_v2_weights_like_runc(ulong shares, ulong weight) => Assert.Equal(weight, Cpu.SharesToWeight(shares));

    [Fact]
    public void Device_rules_use_wildcards_for_missing_numbers()
    {
        Assert.Equal("c 1:3 rwm", CgroupFs.DeviceRule("c", 1, 3, "rwm"));
        Assert.Equal("b *:* r", CgroupFs.DeviceRule("b", null, null, "r"));
        Assert.Equal("a *:* rwm", CgroupFs.DeviceRule("", -1, -1, null));
    }
}
