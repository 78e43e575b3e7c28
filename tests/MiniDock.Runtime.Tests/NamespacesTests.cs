using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests;

/// <summary>Which namespaces the engine creates and joins, and in which order (config-linux.md#namespaces).</summary>
public sealed class NamespacesTests
{
    [Fact]
    public void A_new_user_namespace_is_unshared_through_nsexec()
    {
        var ns = Namespaces.Parse([new NamespaceSpec { Type = "pid" }, new NamespaceSpec { Type = "user" }, new NamespaceSpec { Type = "mount" }]);
        Assert.True(ns.NewUser);
        Assert.True(ns.UsesNsexec);
        Assert.Equal(Clone.NewUser | Clone.NewPid | Clone.NewNs, ns.Unshare);
    }

    [Fact]
    public void Without_a_user_namespace_nsexec_is_not_used()
    {
        var ns = Namespaces.Parse([new NamespaceSpec { Type = "pid" }, new NamespaceSpec { Type = "mount" }]);
        Assert.False(ns.NewUser);
        Assert.False(ns.UsesNsexec);
    }

    [Fact]
    public void A_joined_user_namespace_comes_first_mount_last_and_a_cgroup_path_after_user()
    {
        var self = "/proc/self/ns/";
        var ns = Namespaces.Parse(
        [
            new NamespaceSpec { Type = "mount", Path = self + "mnt" }, new NamespaceSpec { Type = "network", Path = self + "net" },
            new NamespaceSpec { Type = "user", Path = self + "user" }, new NamespaceSpec { Type = "cgroup", Path = self + "cgroup" },
        ]);
        Assert.False(ns.NewUser);
        Assert.True(ns.UsesNsexec);
        Assert.Equal([Clone.NewUser, Clone.NewCgroup, Clone.NewNet, Clone.NewNs], ns.NsexecJoins().Select(j => j.Flag));
    }
}
