using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Runtime.Tests.Mounts;

public sealed class MountOptionsTests
{
    [Fact]
    public void Flags_propagation_and_data_are_split()
    {
        var o = MountOptions.Parse(["nosuid", "noexec", "ro", "rslave", "mode=755", "size=1m"], "tmpfs");
        Assert.Equal(MountFlags.NoSuid | MountFlags.NoExec | MountFlags.RdOnly, o.Flags);
        Assert.Equal(MountFlags.Slave | MountFlags.Rec, o.Propagation);
        Assert.Equal("mode=755,size=1m", o.Data);
        Assert.False(o.Bind);
    }

    [Fact]
    public void Later_options_override_earlier_ones()
    {
        var o = MountOptions.Parse(["ro", "rw", "nodev", "dev"], "tmpfs");
        Assert.Equal(0UL, o.Flags);
    }

    [Fact]
    public void Rbind_is_a_recursive_bind()
    {
        var o = MountOptions.Parse(["rbind", "ro"], "none");
        Assert.True(o.Bind);
        Assert.True(o.Recursive);
        Assert.Equal(MountFlags.RdOnly, o.Flags);
    }

    [Fact]
    public void Bind_type_alone_means_bind() => Assert.True(MountOptions.Parse(null, "bind").Bind);

    [Fact]
    public void Idmapped_mounts_are_refused_not_ignored() => Assert.Throws<RuntimeError>(() => MountOptions.Parse(["idmap"], "bind"));

    [Fact]
    public void Bad_rootfs_propagation_is_an_error() => Assert.Throws<RuntimeError>(() => MountOptions.ParsePropagation("sideways"));
}
