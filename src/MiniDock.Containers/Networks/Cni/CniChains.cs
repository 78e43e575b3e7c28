using System.Text;

namespace MiniDock.Containers.Networks.Cni;

/// <summary>
/// The chains CNI's firewall and portmap plugins create once per network namespace and never remove (their DEL
/// removes only a container's own rules): CNI-FORWARD and CNI-ADMIN in filter, CNI-HOSTPORT-DNAT, -MASQ and -SETMARK
/// in nat, with the jumps to them from FORWARD, PREROUTING, OUTPUT and POSTROUTING. When MiniDock's last container in
/// the namespace is gone they are removed too, but only while they hold nothing but the plugins' own fixed rules:
/// another CNI user's containers (podman's) or an administrator's CNI-ADMIN rules keep them.
/// </summary>
public static class CniChains
{
    private const string ForwardJump = "-A FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD";
    private const string AdminJump = "-A CNI-FORWARD -m comment --comment \"CNI firewall plugin admin overrides\" -j CNI-ADMIN";
    private const string PreroutingJump = "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT";
    private const string OutputJump = "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT";
    private const string MasqJump = "-A POSTROUTING -m comment --comment \"CNI portfwd requiring masquerade\" -j CNI-HOSTPORT-MASQ";
    private const string MasqRule = "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE";
    private const string MarkRule = "-A CNI-HOSTPORT-SETMARK -m comment --comment \"CNI portfwd masquerade mark\" -j MARK --set-xmark 0x2000/0x2000";

    /// <summary>Removes the plugins' unused chains and their jumps; anything unexpected leaves a chain alone.</summary>
    public static void RemoveIfUnused()
    {
        if (Iptables.Find() is not { } ipt)
        {
            return;
        }

        if (FilterText(ipt.Save("filter")) is { } filter)
        {
            ipt.Restore(filter);
        }

        if (NatText(ipt.Save("nat")) is { } nat)
        {
            ipt.Restore(nat);
        }
    }

    /// <summary>The restore text that removes the firewall plugin's chains, or null when they are absent or in use.</summary>
    internal static string? FilterText(Iptables.Table t)
    {
        if (t.Rules("CNI-ADMIN") is not [] || t.Rules("CNI-FORWARD") is not { } fwd || fwd.Any(r => r != AdminJump))
        {
            return null;
        }

        var sb = new StringBuilder("*filter\n");
        if (t.Has("FORWARD", ForwardJump))
        {
            sb.Append(ForwardJump.Replace("-A ", "-D ", StringComparison.Ordinal)).Append('\n');
        }

        return sb.Append("-F CNI-FORWARD\n-X CNI-FORWARD\n-X CNI-ADMIN\nCOMMIT\n").ToString();
    }

    /// <summary>The restore text that removes portmap's chains, or null when they are absent or still map a port.</summary>
    internal static string? NatText(Iptables.Table t)
    {
        if (t.Rules("CNI-HOSTPORT-DNAT") is not [])
        {
            return null;
        }

        var sb = new StringBuilder("*nat\n");
        foreach (var jump in new[] { PreroutingJump, OutputJump })
        {
            if (t.Has(jump.Split(' ')[1], jump))
            {
                sb.Append(jump.Replace("-A ", "-D ", StringComparison.Ordinal)).Append('\n');
            }
        }

        sb.Append("-X CNI-HOSTPORT-DNAT\n");
        if (t.Rules("CNI-HOSTPORT-MASQ") is { } masq && masq.All(r => r == MasqRule))
        {
            if (t.Has("POSTROUTING", MasqJump))
            {
                sb.Append(MasqJump.Replace("-A ", "-D ", StringComparison.Ordinal)).Append('\n');
            }

            sb.Append("-F CNI-HOSTPORT-MASQ\n-X CNI-HOSTPORT-MASQ\n");
        }

        if (t.Rules("CNI-HOSTPORT-SETMARK") is { } mark && mark.All(r => r == MarkRule))
        {
            sb.Append("-F CNI-HOSTPORT-SETMARK\n-X CNI-HOSTPORT-SETMARK\n");
        }

        return sb.Append("COMMIT\n").ToString();
    }
}
