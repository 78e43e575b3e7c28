using MiniDock.Containers.Networks;
using MiniDock.Containers.Networks.Cni;

namespace MiniDock.Containers.Tests.Networks;

/// <summary>The restore texts for network isolation and for removing CNI's shared chains, from saved tables.</summary>
public sealed class IsolationTests
{
    [Fact]
    public void The_first_bridge_creates_both_stages_and_the_jump_ahead_of_everything()
    {
        var text = Isolation.Rules(["minidock0"], jumpExists: false, chainsExist: false);
        Assert.Contains("-I FORWARD 1 -j MINIDOCK-ISOLATION-1\n", text, StringComparison.Ordinal);
        Assert.Contains("-A MINIDOCK-ISOLATION-1 -i minidock0 ! -o minidock0 -j MINIDOCK-ISOLATION-2\n", text, StringComparison.Ordinal);
        Assert.Contains("-A MINIDOCK-ISOLATION-2 -o mdbr+ -j DROP\n", text, StringComparison.Ordinal);
        Assert.Contains("-A MINIDOCK-ISOLATION-2 -o minidock0 -j DROP\n", text, StringComparison.Ordinal);
        Assert.StartsWith("*filter\n", text, StringComparison.Ordinal);
        Assert.EndsWith("COMMIT\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_later_bridge_rewrites_the_chains_without_a_second_jump()
    {
        var text = Isolation.Rules(["mdbr-0123456789", "minidock0"], jumpExists: true, chainsExist: true);
        Assert.DoesNotContain("FORWARD", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split('\n').Count(l => l.StartsWith("-A MINIDOCK-ISOLATION-1 ", StringComparison.Ordinal)));
        Assert.Contains(":MINIDOCK-ISOLATION-1 - [0:0]\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_last_bridge_takes_the_jump_and_the_chains_with_it()
    {
        var text = Isolation.Rules([], jumpExists: true, chainsExist: true);
        Assert.Contains("-D FORWARD -j MINIDOCK-ISOLATION-1\n", text, StringComparison.Ordinal);
        Assert.Contains("-X MINIDOCK-ISOLATION-1\n", text, StringComparison.Ordinal);
        Assert.Contains("-X MINIDOCK-ISOLATION-2\n", text, StringComparison.Ordinal);
        Assert.Equal("*filter\nCOMMIT\n", Isolation.Rules([], jumpExists: false, chainsExist: false));
    }

    [Fact]
    public void A_stage_one_rule_names_its_bridge()
    {
        Assert.Equal("mdbr-ab", Isolation.BridgeOf("-A MINIDOCK-ISOLATION-1 -i mdbr-ab ! -o mdbr-ab -j MINIDOCK-ISOLATION-2"));
        Assert.Null(Isolation.BridgeOf("-A MINIDOCK-ISOLATION-1 -j RETURN"));
    }

    private const string FilterWithSkeleton = """
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :CNI-ADMIN - [0:0]
        :CNI-FORWARD - [0:0]
        -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
        -A CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
        COMMIT
        """;

    [Fact]
    public void The_firewall_plugins_empty_chains_are_removed()
    {
        var text = CniChains.FilterText(new Iptables.Table(FilterWithSkeleton));
        Assert.NotNull(text);
        Assert.Contains("-D FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD\n", text, StringComparison.Ordinal);
        Assert.Contains("-X CNI-FORWARD\n", text, StringComparison.Ordinal);
        Assert.Contains("-X CNI-ADMIN\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Chains_with_another_containers_rule_or_an_admin_rule_are_kept()
    {
        var withContainer = FilterWithSkeleton.Replace("COMMIT", "-A CNI-FORWARD -s 10.88.0.5/32 -j ACCEPT\nCOMMIT", StringComparison.Ordinal);
        Assert.Null(CniChains.FilterText(new Iptables.Table(withContainer)));
        var withAdmin = FilterWithSkeleton.Replace("COMMIT", "-A CNI-ADMIN -s 10.0.0.0/8 -j DROP\nCOMMIT", StringComparison.Ordinal);
        Assert.Null(CniChains.FilterText(new Iptables.Table(withAdmin)));
        Assert.Null(CniChains.FilterText(new Iptables.Table("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n")));
    }

    [Fact]
    public void Portmaps_chains_go_only_when_no_port_is_mapped()
    {
        const string nat = """
            *nat
            :PREROUTING ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :CNI-HOSTPORT-DNAT - [0:0]
            :CNI-HOSTPORT-MASQ - [0:0]
            :CNI-HOSTPORT-SETMARK - [0:0]
            -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
            -A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
            -A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
            -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
            -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
            COMMIT
            """;
        var text = CniChains.NatText(new Iptables.Table(nat));
        Assert.NotNull(text);
        foreach (var line in new[] { "-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT", "-D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT", "-X CNI-HOSTPORT-DNAT", "-X CNI-HOSTPORT-MASQ", "-X CNI-HOSTPORT-SETMARK" })
        {
            Assert.Contains(line + "\n", text, StringComparison.Ordinal);
        }

        var mapped = nat.Replace("COMMIT", "-A CNI-HOSTPORT-DNAT -p tcp -m multiport --dports 8080 -j CNI-DN-abc\nCOMMIT", StringComparison.Ordinal);
        Assert.Null(CniChains.NatText(new Iptables.Table(mapped)));
    }
}
