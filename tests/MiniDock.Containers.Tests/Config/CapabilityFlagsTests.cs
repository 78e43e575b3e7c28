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
    public void Add_all_keeps_out_the_drops_and_an_add_beats_a_drop_of_the_same_name_as_in_moby()
    {
        var all = CapabilityFlags.Resolve(["ALL"], ["NET_RAW", "cap_sys_admin"]);
        Assert.DoesNotContain("CAP_NET_RAW", all);
        Assert.DoesNotContain("CAP_SYS_ADMIN", all);
        Assert.Contains("CAP_SYS_PTRACE", all);

        var both = CapabilityFlags.Resolve(["CHOWN"], ["CHOWN"]);
        Assert.Contains("CAP_CHOWN", both);
        Assert.Equal(14, both.Count);
    }

    [Fact]
    public void Unknown_names_are_errors()
    {
        Assert.Throws<ContainerException>(() => CapabilityFlags.Resolve(["NOPE"], []));
        Assert.Throws<ContainerException>(() => CapabilityFlags.Resolve([], ["NOPE"], privileged: true));
    }

    [Fact]
    public void Privileged_gets_every_capability_of_this_kernel_whatever_the_other_flags()
    {
        // Every capability of this kernel that we hold ourselves (a nested test host may lack some).
        var last = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var bounding = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim();
        var mask = ulong.Parse(bounding, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        var caps = CapabilityFlags.Resolve(["NET_ADMIN"], ["ALL"], privileged: true);
        Assert.Equal(System.Numerics.BitOperations.PopCount(mask & ((2UL << last) - 1)), caps.Count);
        Assert.Equal(caps.Order(StringComparer.Ordinal), CapabilityFlags.Resolve(["ALL"], []).Order(StringComparer.Ordinal));
        Assert.Contains("CAP_SYS_ADMIN", caps);
        Assert.Contains("CAP_CHOWN", caps);
    }
}
