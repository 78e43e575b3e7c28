using System.Net;
using System.Text;

namespace MiniDock.Containers.Config;

/// <summary>
/// The three files Docker writes beside each container and binds onto /etc/hostname, /etc/hosts and
/// /etc/resolv.conf (https://github.com/moby/moby/tree/master/libnetwork/etchosts and …/resolvconf), so that a
/// container's name lookups work without touching its image.
/// </summary>
internal static class EtcFiles
{
    /// <summary>Docker's hosts file for a container with no address of its own (network none).</summary>
    internal const string DefaultHosts =
        "127.0.0.1\tlocalhost\n" +
        "::1\tlocalhost ip6-localhost ip6-loopback\n" +
        "fe00::0\tip6-localnet\n" +
        "ff00::0\tip6-mcastprefix\n" +
        "ff02::1\tip6-allnodes\n" +
        "ff02::2\tip6-allrouters\n";

    /// <summary>Docker's fallback when the host only has loopback resolvers (unreachable from the container).</summary>
    internal const string DefaultNameservers = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";

    private const string SystemdResolvedStub = "/run/systemd/resolve/resolv.conf";

    public static string Hostname(string name) => name + "\n";

    /// <summary>
    /// Docker's hosts file: the host's for the host network, else the defaults, then the <c>--add-host</c> lines, then,
    /// for a container with an address of its own (<paramref name="self"/>), "ADDRESS\tHOSTNAME".
    /// </summary>
    public static string Hosts(bool hostNetwork, string? hostHostsFile, IReadOnlyList<(string Name, string Ip)>? extra = null, (string Address, string Hostname)? self = null)
    {
        var text = hostNetwork ? ReadOrEmpty(hostHostsFile ?? "/etc/hosts") : DefaultHosts;
        if (self is { } me)
        {
            extra = [.. extra ?? [], (me.Hostname, me.Address)];
        }

        if (extra is not { Count: > 0 })
        {
            return text;
        }

        // Docker appends --add-host entries after its own, one "IP\tNAME" line each.
        var sb = new StringBuilder(text);
        if (sb.Length > 0 && sb[^1] != '\n')
        {
            sb.Append('\n');
        }

        foreach (var (name, ip) in extra)
        {
            sb.Append(ip).Append('\t').Append(name).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// <c>--add-host NAME:IP</c> (also <c>NAME=IP</c>; an IPv6 address keeps its colons: the first separator splits),
    /// checked as Docker does, before anything is created.
    /// </summary>
    public static List<(string Name, string Ip)> ParseAddHosts(IReadOnlyList<string> values)
    {
        var list = new List<(string, string)>();
        foreach (var v in values)
        {
            var i = v.IndexOfAny([':', '=']);
            var name = i > 0 ? v[..i] : "";
            var ip = i > 0 ? v[(i + 1)..].Trim('[', ']') : "";
            if (name.Length == 0 || name.Any(char.IsWhiteSpace))
            {
                throw new ContainerException($"invalid argument \"{v}\" for \"--add-host\" flag: bad format for add-host: \"{v}\"");
            }

            if (!IPAddress.TryParse(ip, out _))
            {
                throw new ContainerException($"invalid argument \"{v}\" for \"--add-host\" flag: invalid IP address in add-host: \"{ip}\"");
            }

            list.Add((name, ip));
        }

        return list;
    }

    /// <summary><c>--dns</c> addresses, checked as Docker does.</summary>
    public static void CheckDns(IReadOnlyList<string> servers)
    {
        foreach (var s in servers)
        {
            if (!IPAddress.TryParse(s, out _))
            {
                throw new ContainerException($"invalid argument \"{s}\" for \"--dns\" flag: {s} is not an ip address");
            }
        }
    }

    /// <summary>
    /// resolv.conf with the user's <c>--dns</c>, <c>--dns-search</c> and <c>--dns-option</c>: each given kind replaces
    /// the host's lines of that kind (Docker's rule), the rest of the host's file is kept.
    /// </summary>
    public static string ResolvConf(bool hostNetwork, string? hostResolvConf, IReadOnlyList<string> dns, IReadOnlyList<string> search, IReadOnlyList<string> options)
    {
        var text = ResolvConf(hostNetwork, hostResolvConf);
        if (dns.Count == 0 && search.Count == 0 && options.Count == 0)
        {
            return text;
        }

        var sb = new StringBuilder();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var key = line.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries) is [var k, ..] ? k : "";
            if ((key == "nameserver" && dns.Count > 0) || ((key is "search" or "domain") && search.Count > 0) || (key == "options" && options.Count > 0))
            {
                continue;
            }

            sb.Append(line).Append('\n');
        }

        foreach (var d in dns)
        {
            sb.Append("nameserver ").Append(d).Append('\n');
        }

        if (search.Count > 0)
        {
            sb.Append("search ").Append(string.Join(' ', search)).Append('\n');
        }

        if (options.Count > 0)
        {
            sb.Append("options ").Append(string.Join(' ', options)).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The host's resolv.conf; for a container with its own network namespace, loopback nameservers
    /// (127.0.0.0/8, ::1: the host's own stub resolver) are removed, and Docker's defaults added if none is left.
    /// </summary>
    public static string ResolvConf(bool hostNetwork, string? hostResolvConf)
    {
        var path = hostResolvConf ?? "/etc/resolv.conf";
        var text = ReadOrEmpty(path);
        if (hostNetwork)
        {
            return text;
        }

        // systemd-resolved: /etc/resolv.conf names only its 127.0.0.53 stub; the upstream servers are here (as Docker does).
        if (hostResolvConf is null && text.Contains("nameserver 127.0.0.53", StringComparison.Ordinal) && File.Exists(SystemdResolvedStub))
        {
            text = ReadOrEmpty(SystemdResolvedStub);
        }

        var sb = new StringBuilder();
        var servers = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["nameserver", var addr, ..])
            {
                var ip = addr.Split('%')[0];
                if (IPAddress.TryParse(ip, out var a) && IPAddress.IsLoopback(a))
                {
                    continue;
                }

                servers++;
            }

            if (line.Length > 0)
            {
                sb.Append(line).Append('\n');
            }
        }

        if (servers == 0)
        {
            sb.Append(DefaultNameservers);
        }

        return sb.ToString();
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
