using System.Diagnostics;

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
    /// <summary>Removes the plugins' empty chains and their jumps; anything unexpected leaves a chain alone.</summary>
    public static void RemoveIfUnused()
    {
        var iptables = new[] { "/usr/sbin/iptables", "/sbin/iptables" }.FirstOrDefault(File.Exists);
        if (iptables is null)
        {
            return;
        }

        var fwd = Rules(iptables, "filter", "CNI-FORWARD");
        if (Rules(iptables, "filter", "CNI-ADMIN") is [] && fwd is not null && fwd.All(r => r.EndsWith("-j CNI-ADMIN", StringComparison.Ordinal)))
        {
            Run(iptables, "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "CNI firewall plugin rules", "-j", "CNI-FORWARD");
            Run(iptables, "-t", "filter", "-F", "CNI-FORWARD");
            Run(iptables, "-t", "filter", "-X", "CNI-FORWARD");
            Run(iptables, "-t", "filter", "-X", "CNI-ADMIN");
        }

        if (Rules(iptables, "nat", "CNI-HOSTPORT-DNAT") is not [])
        {
            return;
        }

        Run(iptables, "-t", "nat", "-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT");
        Run(iptables, "-t", "nat", "-D", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "CNI-HOSTPORT-DNAT");
        Run(iptables, "-t", "nat", "-X", "CNI-HOSTPORT-DNAT");
        if (Rules(iptables, "nat", "CNI-HOSTPORT-MASQ") is { } masq && masq.All(r => r.EndsWith("-j MASQUERADE", StringComparison.Ordinal) && r.Contains("0x2000/0x2000", StringComparison.Ordinal)))
        {
            Run(iptables, "-t", "nat", "-D", "POSTROUTING", "-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", "CNI-HOSTPORT-MASQ");
            Run(iptables, "-t", "nat", "-F", "CNI-HOSTPORT-MASQ");
            Run(iptables, "-t", "nat", "-X", "CNI-HOSTPORT-MASQ");
        }

        if (Rules(iptables, "nat", "CNI-HOSTPORT-SETMARK") is { } mark && mark.All(r => r.Contains("-j MARK --set-xmark 0x2000/0x2000", StringComparison.Ordinal)))
        {
            Run(iptables, "-t", "nat", "-F", "CNI-HOSTPORT-SETMARK");
            Run(iptables, "-t", "nat", "-X", "CNI-HOSTPORT-SETMARK");
        }
    }

    /// <summary>The chain's rules as <c>iptables -S</c> prints them (without its "-N" line); null when it does not exist.</summary>
    private static List<string>? Rules(string iptables, string table, string chain)
    {
        var (rc, output) = Run(iptables, "-w", "-t", table, "-S", chain);
        return rc != 0 ? null : [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("-N ", StringComparison.Ordinal))];
    }

    private static (int Rc, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
