using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>The container's capabilities are Docker's default set (CapEff 00000000a80425fb), changed by --cap-add/--cap-drop; no_new_privs only on request.</summary>
public sealed class CapabilityTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private Dictionary<string, string> Status(params string[] flags)
    {
        var r = _cli.Ok(["run", "--rm", .. flags, _cli.Pulled(sandbox), "cat", "/proc/self/status"]);
        return r.Stdout.Lines().Select(l => l.Split(':', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim());
    }

    [Fact]
    public void Default_set_is_Dockers_and_setuid_programs_may_gain_privileges()
    {
        var s = Status();
        Assert.Equal("00000000a80425fb", s["CapEff"]);
        Assert.Equal("00000000a80425fb", s["CapBnd"]);
        Assert.Equal("0", s["NoNewPrivs"]);
    }

    [Fact]
    public void Cap_drop_and_cap_add_change_the_set_and_no_new_privileges_is_opt_in()
    {
        Assert.Equal("0000000000000000", Status("--cap-drop", "ALL")["CapEff"]);
        var s = Status("--cap-drop", "chown", "--cap-add", "CAP_NET_ADMIN", "--security-opt", "no-new-privileges");
        Assert.Equal("00000000a80435fa", s["CapEff"]); // -CAP_CHOWN (bit 0) +CAP_NET_ADMIN (bit 12)
        Assert.Equal("1", s["NoNewPrivs"]);
    }

    /// <summary>
    /// A capability the runtime does not hold itself (missing from its bounding set, as CAP_SYS_RESOURCE is on some
    /// sandboxed hosts) is refused at create with one line, rather than by capset in the init after start, silently.
    /// </summary>
    [Fact]
    public void A_capability_the_host_does_not_hold_is_refused_before_the_start()
    {
        var image = _cli.Pulled(sandbox);
        var bounding = Convert.ToUInt64(File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("CapBnd:", StringComparison.Ordinal))[7..].Trim(), 16);
        const int SysResource = 24;
        if ((bounding & (1UL << SysResource)) == 0)
        {
            Assert.Contains("CAP_SYS_RESOURCE", _cli.Fails125("run", "--rm", "--cap-add", "SYS_RESOURCE", image, "true"), StringComparison.Ordinal);
        }
        else
        {
            var s = Status("--cap-add", "SYS_RESOURCE");
            Assert.NotEqual(0UL, Convert.ToUInt64(s["CapEff"], 16) & (1UL << SysResource));
        }
    }

    [Fact]
    public void Exec_privileged_gives_the_command_every_capability_and_leaves_the_container_as_it_was()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "priv-exec", image, "sleep", "600");
        string CapEff(params string[] flags) => _cli.Ok(["exec", .. flags, "priv-exec", "cat", "/proc/self/status"]).Stdout.Lines()
            .Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))[7..].Trim();

        Assert.Equal("00000000a80425fb", CapEff());
        var privileged = Convert.ToUInt64(CapEff("--privileged"), 16);
        Assert.NotEqual(0UL, privileged & (1UL << 21)); // CAP_SYS_ADMIN
        Assert.Equal(0xa80425fbUL, privileged & 0xa80425fbUL); // a superset of the default set
        Assert.Equal("00000000a80425fb", CapEff()); // the next plain exec is back to the container's set
    }

    [Fact]
    public void Unknown_capability_or_security_option_is_one_line_and_125()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Contains("BOGUS", _cli.Fails125("run", "--rm", "--cap-add", "BOGUS", image, "true"), StringComparison.Ordinal);
        Assert.Contains("apparmor", _cli.Fails125("run", "--rm", "--security-opt", "apparmor=x", image, "true"), StringComparison.Ordinal);
    }
}
