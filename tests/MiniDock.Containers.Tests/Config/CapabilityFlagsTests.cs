using MiniDock.Containers.Config;

namespace MiniDock.Containers.Tests.Config;

public sealed class CapabilityFlagsTests
{
    [Fact]
    public void No_flags_give_Dockers_fourteen()
    {
        var caps = CapabilityFlags.Resolve([], []);
        Assert.Equal(14, caps.Count);
        Assert.Contains("CAP_NET_BIND_SERVICE", caps);
        Assert.DoesNotContain("CAP_SYS_ADMIN", caps);
    }

    [Fact]
    public void Drop_all_then_add_back_keeps_only_the_adds_in_any_spelling()
    {
        Assert.Equal(["CAP_KILL", "CAP_SYS_PTRACE"], CapabilityFlags.Resolve(["kill", "CAP_SYS_PTRACE"], ["all"]));
        Assert.Contains("CAP_BPF", CapabilityFlags.Resolve(["ALL"], []));
        Assert.DoesNotContain("CAP_CHOWN", CapabilityFlags.Resolve([], ["chown"]));
    }

    [Fact]
    public void Unknown_names_and_options_are_errors()
    {
        Assert.Throws<ContainerException>(() => CapabilityFlags.Resolve(["NOPE"], []));
        Assert.Throws<ContainerException>(() => CapabilityFlags.NoNewPrivileges(["seccomp=unconfined"]));
        Assert.Throws<ContainerException>(() => CapabilityFlags.NoNewPrivileges(["no-new-privileges=maybe"]));
        Assert.True(CapabilityFlags.NoNewPrivileges(["no-new-privileges"]));
        Assert.True(CapabilityFlags.NoNewPrivileges(["no-new-privileges:true"]));
        Assert.False(CapabilityFlags.NoNewPrivileges(["no-new-privileges=false"]));
        Assert.False(CapabilityFlags.NoNewPrivileges([]));
    }
}
