using MiniDock.Runtime.Security;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Security;

public sealed class CapabilitiesTests
{
    [Fact]
    public void Names_map_to_their_bits()
    {
        Assert.Equal(0, Capabilities.Number("CAP_CHOWN"));
        Assert.Equal(21, Capabilities.Number("CAP_SYS_ADMIN"));
        Assert.Equal(40, Capabilities.Number("CAP_CHECKPOINT_RESTORE"));
        Assert.Equal((1UL << 5) | (1UL << 10), Capabilities.Mask(["CAP_KILL", "CAP_NET_BIND_SERVICE"], 40));
    }

    [Fact]
    public void A_capability_the_runtime_does_not_hold_is_named_and_refused_but_the_bounding_set_may_ask_for_more()
    {
        var held = ~(1UL << 24); // everything but CAP_SYS_RESOURCE
        var wants = Capabilities.Parse(new CapabilitiesSpec { Effective = ["CAP_SYS_RESOURCE", "CAP_KILL"], Permitted = ["CAP_KILL"] }, 40);
        Assert.Contains("CAP_SYS_RESOURCE", Assert.Throws<RuntimeError>(() => Capabilities.RequireHeld(wants, held)).Message);

        Capabilities.RequireHeld(Capabilities.Parse(new CapabilitiesSpec { Bounding = ["CAP_SYS_RESOURCE"], Effective = ["CAP_KILL"] }, 40), held);
    }

    [Fact]
    public void An_unknown_capability_is_an_error()
    {
        var spec = new CapabilitiesSpec { Bounding = ["CAP_KILL", "CAP_TO_FLY"] };
        var e = Assert.Throws<RuntimeError>(() => Capabilities.Parse(spec, 40));
        Assert.Contains("CAP_TO_FLY", e.Message);
    }

    [Fact]
    public void Capabilities_beyond_the_kernels_last_are_dropped_quietly()
        => Assert.Equal(0UL, Capabilities.Mask(["CAP_CHECKPOINT_RESTORE"], 39));

    [Fact]
    public void Duplicate_rlimits_are_an_error()
    {
        var e = Assert.Throws<RuntimeError>(() => Rlimits.Parse([new RlimitSpec { Type = "RLIMIT_NOFILE", Soft = 1, Hard = 1 }, new RlimitSpec { Type = "RLIMIT_NOFILE", Soft = 2, Hard = 2 }]));
        Assert.Contains("duplicate", e.Message);
    }

    [Fact]
    public void Unknown_rlimits_and_soft_above_hard_are_errors()
    {
        Assert.Throws<RuntimeError>(() => Rlimits.Parse([new RlimitSpec { Type = "RLIMIT_FOO" }]));
        Assert.Throws<RuntimeError>(() => Rlimits.Parse([new RlimitSpec { Type = "RLIMIT_CORE", Soft = 5, Hard = 1 }]));
    }

    [Fact]
    public void Rlimits_keep_soft_and_hard_exactly()
    {
        var l = Rlimits.Parse([new RlimitSpec { Type = "RLIMIT_NOFILE", Soft = 1000, Hard = 2000 }]);
        Assert.Equal((7, 1000UL, 2000UL), l[0]);
    }
}
