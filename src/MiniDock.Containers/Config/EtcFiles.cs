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

    public static string Hosts(bool hostNetwork, string? hostHostsFile)
        => hostNetwork ? ReadOrEmpty(hostHostsFile ?? "/etc/hosts") : DefaultHosts;

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
