using System.Net;
using System.Net.Sockets;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Networks;

/// <summary>
/// Host ports for a container's <see cref="PortMapping"/>s at start, as Docker's port allocator hands them out:
/// a port is "already allocated" when another container holds it (a binding on all addresses holds the port on every
/// address, and a binding on one address blocks a later all-addresses one), and a port a host process already
/// listens on is refused before the container starts rather than left to fail inside the portmap plugin.
/// </summary>
public static class PortAllocator
{
    /// <summary>First port of the range Docker picks "any port" from (Linux's default ip_local_port_range).</summary>
    public const int EphemeralFirst = 32768;

    /// <summary>Last port of that range.</summary>
    public const int EphemeralLast = 60999;

    /// <summary>
    /// The mappings of <paramref name="wanted"/>, in its order, with every host port chosen. Explicit host ports
    /// are checked first (against <paramref name="inUse"/>, against each other, and with <paramref name="canBind"/>)
    /// and refused with Docker's "Bind for IP:PORT failed: port is already allocated"; then a mapping with a
    /// <see cref="PortMapping.HostRange"/> gets the first free port of its range (Docker's RequestPortInRange), and
    /// one with host port 0 gets a free port of <see cref="EphemeralFirst"/>..<see cref="EphemeralLast"/>, scanned
    /// from a random offset so that containers started together do not race for the same first port.
    /// <paramref name="inUse"/> holds other containers' bindings (IP <c>""</c> = all addresses) and is not changed.
    /// <paramref name="canBind"/>(hostIp, port, protocol) says whether the host can still bind the port;
    /// by default <see cref="CanBind"/> tries it for real.
    /// </summary>
    public static IReadOnlyList<PortMapping> Assign(IReadOnlyList<PortMapping> wanted, ISet<(string Ip, int Port, string Proto)> inUse, Func<string, int, string, bool>? canBind = null)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(inUse);
        canBind ??= CanBind;

        var taken = new Dictionary<(int Port, string Proto), List<string>>();
        foreach (var (ip, port, proto) in inUse)
        {
            Take(taken, ip, port, proto);
        }

        var result = new PortMapping[wanted.Count];
        for (var i = 0; i < wanted.Count; i++)
        {
            var m = wanted[i];
            if (m.HostPort == 0)
            {
                continue;
            }

            if (Conflicts(taken, m.HostIp, m.HostPort, m.Protocol) || !canBind(m.HostIp, m.HostPort, m.Protocol))
            {
                throw new ContainerException($"Bind for {PortSpec.ShowIp(m.HostIp)}:{m.HostPort} failed: port is already allocated");
            }

            Take(taken, m.HostIp, m.HostPort, m.Protocol);
            result[i] = m;
        }

        for (var i = 0; i < wanted.Count; i++)
        {
            var m = wanted[i];
            if (m.HostPort != 0)
            {
                continue;
            }

            int port;
            if (m.HostRange is { } r)
            {
                port = FirstFree(taken, m, r.First, r.Last, 0, canBind);
                if (port == 0)
                {
                    throw new ContainerException($"Bind for {PortSpec.ShowIp(m.HostIp)}:{r.First}-{r.Last} failed: port is already allocated");
                }
            }
            else
            {
                port = FirstFree(taken, m, EphemeralFirst, EphemeralLast, Random.Shared.Next(EphemeralLast - EphemeralFirst + 1), canBind);
                if (port == 0)
                {
                    throw new ContainerException($"Bind for {PortSpec.ShowIp(m.HostIp)}:{m.Key} failed: all ports are allocated");
                }
            }

            Take(taken, m.HostIp, port, m.Protocol);
            result[i] = m with { HostPort = port, HostRange = null };
        }

        return result;
    }

    /// <summary>
    /// Whether the host can bind <paramref name="port"/> on <paramref name="hostIp"/> (<c>""</c>: all IPv4
    /// addresses) now: a TCP socket is bound and put to listen, a UDP one bound, and closed at once, with
    /// SO_REUSEADDR off so that a port in use is not waved through. False when the port is in use; any other
    /// failure (an address the host does not have, a privileged port without the right) is a
    /// <see cref="ContainerException"/> saying so, as Docker's start fails with the kernel's reason. SCTP is not
    /// probed (the kernel may not have it loaded): true.
    /// </summary>
    public static bool CanBind(string hostIp, int port, string protocol)
    {
        ArgumentNullException.ThrowIfNull(hostIp);
        if (protocol is not ("tcp" or "udp"))
        {
            return true;
        }

        var address = hostIp.Length == 0 ? IPAddress.Any : IPAddress.Parse(hostIp);
        var tcp = protocol == "tcp";
        try
        {
            using var s = new Socket(address.AddressFamily, tcp ? SocketType.Stream : SocketType.Dgram, tcp ? ProtocolType.Tcp : ProtocolType.Udp);
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
            s.Bind(new IPEndPoint(address, port));
            if (tcp)
            {
                s.Listen(1);
            }

            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return false;
        }
        catch (SocketException e)
        {
            throw new ContainerException($"cannot bind {PortSpec.JoinHostPort(PortSpec.ShowIp(hostIp), port.ToString(System.Globalization.CultureInfo.InvariantCulture))}/{protocol}: {e.Message}");
        }
    }

    /// <summary>The first port of first..last, starting at first+offset and wrapping, that is free; 0 if none is.</summary>
    private static int FirstFree(Dictionary<(int, string), List<string>> taken, PortMapping m, int first, int last, int offset, Func<string, int, string, bool> canBind)
    {
        var count = last - first + 1;
        for (var k = 0; k < count; k++)
        {
            var port = first + ((offset + k) % count);
            if (!Conflicts(taken, m.HostIp, port, m.Protocol) && canBind(m.HostIp, port, m.Protocol))
            {
                return port;
            }
        }

        return 0;
    }

    private static void Take(Dictionary<(int, string), List<string>> taken, string ip, int port, string proto)
    {
        if (!taken.TryGetValue((port, proto), out var ips))
        {
            taken[(port, proto)] = ips = [];
        }

        ips.Add(Normalize(ip));
    }

    /// <summary>Same port and protocol, and either side on all addresses or both on the same one.</summary>
    private static bool Conflicts(Dictionary<(int, string), List<string>> taken, string ip, int port, string proto)
    {
        if (!taken.TryGetValue((port, proto), out var ips))
        {
            return false;
        }

        var mine = Normalize(ip);
        return ips.Any(other => mine.Length == 0 || other.Length == 0 || other == mine);
    }

    /// <summary><c>""</c> for every spelling of "all addresses" (<c>0.0.0.0</c>, <c>::</c>), the canonical text otherwise.</summary>
    private static string Normalize(string ip)
    {
        if (ip.Length == 0 || !IPAddress.TryParse(ip, out var a))
        {
            return ip;
        }

        return a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any) ? "" : a.ToString();
    }
}
