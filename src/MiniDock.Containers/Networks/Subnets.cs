using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Networks;

/// <summary>An IPv4 subnet as <c>network create --subnet</c> takes it and the CNI ranges write it.</summary>
public readonly record struct Subnet(uint Network, int Prefix)
{
    public uint Mask => Prefix == 0 ? 0 : uint.MaxValue << (32 - Prefix);

    public uint Broadcast => Network | ~Mask;

    public bool Contains(uint a) => (a & Mask) == Network;

    public bool Overlaps(Subnet o) => Contains(o.Network) || o.Contains(Network);

    public override string ToString() => $"{Subnets.Text(Network)}/{Prefix}";
}

/// <summary>
/// Subnets for bridge networks: parsing and checking <c>--subnet</c>/<c>--gateway</c> as Docker does, and choosing a
/// free /24 for a network created without one (from 10.78.0.0/16 on, skipping what other networks and the routes
/// of the namespace already use, so that a container's address never shadows a host route).
/// </summary>
public static class Subnets
{
    public static Subnet Parse(string cidr)
    {
        var slash = cidr.IndexOf('/');
        if (slash < 0 || !IsDottedQuad(cidr[..slash], out var ip)
            || !int.TryParse(cidr[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix is < 0 or > 32)
        {
            throw new ContainerException($"invalid subnet {cidr}: an IPv4 CIDR such as 10.78.0.0/24 is expected");
        }

        var a = ToUint(ip);
        var s = new Subnet(a & (prefix == 0 ? 0 : uint.MaxValue << (32 - prefix)), prefix);
        if (s.Network != a)
        {
            throw new ContainerException($"invalid subnet {cidr}: it should be {s}");
        }

        if (prefix > 30)
        {
            throw new ContainerException($"invalid subnet {cidr}: too small for containers (at most /30)");
        }

        return s;
    }

    /// <summary>The gateway: <paramref name="gateway"/> checked to be a host address of the subnet, else its first one.</summary>
    public static string Gateway(Subnet s, string? gateway)
    {
        if (string.IsNullOrEmpty(gateway))
        {
            return Text(s.Network + 1);
        }

        if (!IsDottedQuad(gateway, out var g))
        {
            throw new ContainerException($"invalid gateway {gateway}: not an IPv4 address");
        }

        var a = ToUint(g);
        if (!s.Contains(a) || a == s.Network || a == s.Broadcast)
        {
            throw new ContainerException($"invalid gateway {gateway}: not a host address of subnet {s}");
        }

        return gateway;
    }

    /// <summary>The first /24 from 10.78.0.0 on that overlaps neither <paramref name="taken"/> nor a route.</summary>
    public static Subnet Choose(IEnumerable<Subnet> taken, IEnumerable<Subnet> routes)
    {
        var busy = taken.Concat(routes).ToList();
        for (uint n = 0; n < 8 * 256; n++)
        {
            var candidate = new Subnet(ToUint(IPAddress.Parse("10.78.0.0")) + (n << 8), 24);
            if (!busy.Any(b => b.Overlaps(candidate)))
            {
                return candidate;
            }
        }

        throw new ContainerException("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
    }

    /// <summary>The calling process's IPv4 routes except the default one (/proc/net/route: little-endian hex).</summary>
    public static List<Subnet> Routes(string table = "/proc/net/route")
    {
        var list = new List<Subnet>();
        if (!File.Exists(table))
        {
            return list;
        }

        foreach (var line in File.ReadLines(table).Skip(1))
        {
            var f = line.Split('\t', StringSplitOptions.TrimEntries);
            if (f.Length < 8 || !uint.TryParse(f[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var dest)
                || !uint.TryParse(f[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                continue;
            }

            var d = BinaryPrimitives.ReverseEndianness(dest);
            var m = BinaryPrimitives.ReverseEndianness(mask);
            var prefix = System.Numerics.BitOperations.PopCount(m);
            if (prefix > 0)
            {
                list.Add(new Subnet(d & m, prefix));
            }
        }

        return list;
    }

    /// <summary>
    /// An IPv4 address written as four decimal numbers: IPAddress.TryParse also takes inet_aton's short, octal and
    /// hex forms ("10.1.2" is 10.1.0.2), which Docker and the CNI plugins do not.
    /// </summary>
    private static bool IsDottedQuad(string text, out IPAddress ip)
        => IPAddress.TryParse(text, out ip!) && ip.AddressFamily == AddressFamily.InterNetwork && ip.ToString() == text;

    public static uint ToUint(IPAddress ip) => BinaryPrimitives.ReadUInt32BigEndian(ip.GetAddressBytes());

    public static string Text(uint a) => new IPAddress(BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(a) : a).ToString();
}
