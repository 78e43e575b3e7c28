using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Networks;

/// <summary>
/// The data side of Docker's port publishing: <c>-p</c>, <c>--expose</c> and <c>-P</c> parsed into
/// <see cref="PortMapping"/>s the way Docker's <c>nat.ParsePortSpec</c> (go-connections) and the CLI's
/// <c>parse()</c> do, and the text <c>docker ps</c> (PORTS column) and <c>docker port</c> print for them.
/// Errors are <see cref="ContainerException"/>s in Docker's words so that scripts matching them keep working.
/// </summary>
public static class PortSpec
{
    /// <summary>
    /// One <c>-p</c> value: <c>[hostIP:][hostPort[-hostPortEnd]:]containerPort[-containerPortEnd][/proto]</c>.
    /// As Docker: the spec is cut at its last two colons (so an unbracketed IPv6 host address still works, and
    /// <c>[::1]:8080:80</c> has its brackets removed); an empty host port (<c>80</c>, <c>127.0.0.1::80</c>) means
    /// "choose one" (HostPort 0); equal-length ranges publish one mapping per port; a host range with a single
    /// container port (<c>8000-8010:80</c>) is one mapping whose host port is chosen from that range
    /// (<see cref="PortMapping.HostRange"/>); any other length mismatch is refused. The protocol is case-insensitive
    /// and kept lower case. Unlike Docker, an explicit host port 0 (<c>0:80</c>) is refused: "choose one" is
    /// written by leaving the host port out.
    /// </summary>
    public static IReadOnlyList<PortMapping> Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);

        // Docker's splitParts: the container port is after the last colon, the host port after the one before,
        // and everything in front is the address.
        var parts = spec.Split(':');
        var n = parts.Length;
        var containerPart = parts[n - 1];
        var hostPort = n >= 2 ? parts[n - 2] : "";
        var ip = n >= 3 ? string.Join(':', parts, 0, n - 2) : "";

        var (proto, containerPort) = SplitProtoPort(containerPart);

        if (ip.StartsWith('['))
        {
            // Docker strips the brackets with net.SplitHostPort(ip + ":"): "[::1]" is fine, "[::1" is not.
            if (!ip.EndsWith(']') || ip.Length < 3)
            {
                throw new ContainerException($"invalid IP address: {ip}");
            }

            ip = ip[1..^1];
        }

        if (ip.Length > 0 && !IsIp(ip))
        {
            throw new ContainerException($"invalid IP address: {ip}");
        }

        if (containerPort.Length == 0)
        {
            throw new ContainerException($"no port specified: {spec}<empty>");
        }

        if (!TryParseRange(containerPort, out var start, out var end))
        {
            throw new ContainerException($"invalid containerPort: {containerPort}");
        }

        int hostStart = 0, hostEnd = 0;
        if (hostPort.Length > 0 && !TryParseRange(hostPort, out hostStart, out hostEnd))
        {
            throw new ContainerException($"invalid hostPort: {hostPort}");
        }

        var hostRange = false;
        if (hostPort.Length > 0 && end - start != hostEnd - hostStart)
        {
            // Docker: a host range is allowed against a single container port (the daemon then picks one
            // port in it); two ranges of different lengths cannot be paired.
            if (end != start)
            {
                throw new ContainerException($"invalid ranges specified for container and host Ports: {containerPort} and {hostPort}");
            }

            hostRange = true;
        }

        var protocol = proto.ToLowerInvariant();
        if (!IsProto(protocol))
        {
            throw new ContainerException($"invalid proto: {proto}");
        }

        if (hostRange)
        {
            return [new PortMapping(ip, 0, start, protocol) { HostRange = (hostStart, hostEnd) }];
        }

        var list = new List<PortMapping>(end - start + 1);
        for (var i = 0; i <= end - start; i++)
        {
            list.Add(new PortMapping(ip, hostPort.Length > 0 ? hostStart + i : 0, start + i, protocol));
        }

        return list;
    }

    /// <summary>
    /// One <c>--expose</c> value: <c>port[/proto]</c> or <c>start-end[/proto]</c>, as the Docker CLI reads it
    /// (no host part: a colon is refused with its message), expanded to one key per port (<c>80/tcp</c>).
    /// </summary>
    public static IReadOnlyList<string> ParseExpose(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Contains(':'))
        {
            throw new ContainerException($"invalid port format for --expose: {spec}");
        }

        var (proto, port) = SplitProtoPort(spec);
        if (!TryParseRange(port, out var start, out var end))
        {
            throw new ContainerException($"invalid range format for --expose: {spec}");
        }

        var protocol = proto.ToLowerInvariant();
        if (!IsProto(protocol))
        {
            throw new ContainerException($"invalid proto: {proto}");
        }

        var keys = new List<string>(end - start + 1);
        for (var p = start; p <= end; p++)
        {
            keys.Add($"{p}/{protocol}");
        }

        return keys;
    }

    /// <summary>
    /// <c>-P</c>: Docker publishes every exposed port (the image's <c>ExposedPorts</c>, <c>--expose</c>) on a port
    /// the daemon chooses, on all addresses. Keys are <c>80/tcp</c>, <c>53/udp</c> or a bare <c>8080</c> (tcp);
    /// the result has one mapping per distinct key, ordered by port then protocol, so that the ports handed out
    /// do not depend on the order the keys came in.
    /// </summary>
    public static IReadOnlyList<PortMapping> PublishAll(IEnumerable<string> exposedKeys)
    {
        ArgumentNullException.ThrowIfNull(exposedKeys);
        var seen = new HashSet<(int, string)>();
        foreach (var key in exposedKeys)
        {
            foreach (var k in ParseExpose(key))
            {
                var slash = k.IndexOf('/', StringComparison.Ordinal);
                seen.Add((int.Parse(k.AsSpan(0, slash), CultureInfo.InvariantCulture), k[(slash + 1)..]));
            }
        }

        return seen.OrderBy(p => p.Item1).ThenBy(p => p.Item2, StringComparer.Ordinal)
            .Select(p => new PortMapping("", 0, p.Item1, p.Item2)).ToList();
    }

    /// <summary>
    /// <c>-p</c> with <c>-P</c>: Docker adds a <c>-P</c> binding only for an exposed port that has no binding yet
    /// (the CLI's <c>if _, exists := portBindings[port]; !exists</c>), so <c>-p 8080:80 -P</c> on an image exposing 80
    /// publishes 80 once, on 8080. The explicit mappings come first, in their order.
    /// </summary>
    public static IReadOnlyList<PortMapping> Merge(IReadOnlyList<PortMapping> explicitOnes, IReadOnlyList<PortMapping> publishAll)
    {
        ArgumentNullException.ThrowIfNull(explicitOnes);
        ArgumentNullException.ThrowIfNull(publishAll);
        var published = explicitOnes.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        var list = new List<PortMapping>(explicitOnes);
        foreach (var m in publishAll)
        {
            if (published.Add(m.Key))
            {
                list.Add(m);
            }
        }

        return list;
    }

    /// <summary>
    /// The PORTS column of <c>docker ps</c>, by the CLI's <c>DisplayablePorts</c>: ports sorted by container port,
    /// address, host port, protocol; runs of consecutive ports published on the same port number and address are
    /// collapsed (<c>0.0.0.0:8000-8002-&gt;8000-8002/tcp</c>), as are runs of unpublished ones (<c>80-81/tcp</c>);
    /// mappings to another host port are listed one by one after the groups (<c>127.0.0.1:8080-&gt;80/tcp</c>).
    /// HostIp <c>""</c> is shown as <c>0.0.0.0</c>; a mapping whose host port is still 0 (not assigned yet) shows as
    /// Docker shows an exposed, unpublished port: <c>80/tcp</c>. IPv6 addresses are bracketed, as newer CLIs do.
    /// </summary>
    public static string PsColumn(IEnumerable<PortMapping> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var sorted = ports
            .Select(p => (Ip: p.HostPort == 0 ? "" : ShowIp(p.HostIp), Public: p.HostPort, Private: p.ContainerPort, Type: p.Protocol))
            .OrderBy(p => p.Private).ThenBy(p => p.Ip, StringComparer.Ordinal).ThenBy(p => p.Public).ThenBy(p => p.Type, StringComparer.Ordinal)
            .ToList();

        var groups = new Dictionary<(string Ip, string Type), (int First, int Last)>();
        var groupKeys = new List<(string Ip, string Type)>();
        var result = new List<string>();
        var hostMappings = new List<string>();
        foreach (var p in sorted)
        {
            if (p.Ip.Length > 0 && p.Public != p.Private)
            {
                hostMappings.Add($"{JoinHostPort(p.Ip, p.Public.ToString(CultureInfo.InvariantCulture))}->{p.Private}/{p.Type}");
                continue;
            }

            var key = (p.Ip, p.Type);
            if (!groups.TryGetValue(key, out var g))
            {
                groups[key] = (p.Private, p.Private);
                groupKeys.Add(key);
                continue;
            }

            if (p.Private == g.Last + 1)
            {
                groups[key] = (g.First, p.Private);
                continue;
            }

            // Docker's order: a run broken off is printed at once; the last run of each key comes after them all.
            result.Add(FormGroup(key, g));
            groups[key] = (p.Private, p.Private);
        }

        foreach (var key in groupKeys)
        {
            result.Add(FormGroup(key, groups[key]));
        }

        result.AddRange(hostMappings);
        return string.Join(", ", result);
    }

    /// <summary>
    /// <c>docker port NAME [PRIVATE_PORT[/PROTO]]</c>. Without a filter: one line per published mapping,
    /// <c>80/tcp -&gt; 127.0.0.1:8080</c>, sorted by container port then protocol (then address and host port).
    /// With one (<c>80</c> means <c>80/tcp</c>, as Docker): just the <c>127.0.0.1:8080</c> addresses of that port, or
    /// Docker's "No public port '80/tcp' published for NAME" when there are none. HostIp <c>""</c> shows as
    /// <c>0.0.0.0</c>; a mapping whose host port is still 0 is not published yet and is left out.
    /// </summary>
    public static IReadOnlyList<string> PortLines(IEnumerable<PortMapping> ports, string? filter, string containerName)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var published = ports.Where(p => p.HostPort > 0)
            .OrderBy(p => p.ContainerPort).ThenBy(p => p.Protocol, StringComparer.Ordinal)
            .ThenBy(p => ShowIp(p.HostIp), StringComparer.Ordinal).ThenBy(p => p.HostPort)
            .ToList();

        if (string.IsNullOrEmpty(filter))
        {
            return published.Select(p => $"{p.Key} -> {JoinHostPort(ShowIp(p.HostIp), p.HostPort.ToString(CultureInfo.InvariantCulture))}").ToList();
        }

        var slash = filter.IndexOf('/', StringComparison.Ordinal);
        var port = slash < 0 ? filter : filter[..slash];
        var proto = slash < 0 || slash == filter.Length - 1 ? "tcp" : filter[(slash + 1)..];
        if (port.Length == 0 || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535)
        {
            throw new ContainerException($"invalid port ({port})");
        }

        var lines = published.Where(p => p.ContainerPort == number && p.Protocol == proto)
            .Select(p => JoinHostPort(ShowIp(p.HostIp), p.HostPort.ToString(CultureInfo.InvariantCulture))).ToList();
        if (lines.Count == 0)
        {
            throw new ContainerException($"No public port '{port}/{proto}' published for {containerName}");
        }

        return lines;
    }

    /// <summary>
    /// The mappings as the JSON kept with the container's options:
    /// <c>[{"HostIp":"","HostPort":0,"ContainerPort":80,"Protocol":"tcp"}]</c>, plus <c>"HostRange":[8000,8010]</c>
    /// where there is one. Written by hand with Utf8JsonWriter: no reflection serializer under NativeAOT.
    /// </summary>
    public static string ToJson(IReadOnlyList<PortMapping> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartArray();
            foreach (var p in ports)
            {
                w.WriteStartObject();
                w.WriteString("HostIp", p.HostIp);
                w.WriteNumber("HostPort", p.HostPort);
                w.WriteNumber("ContainerPort", p.ContainerPort);
                w.WriteString("Protocol", p.Protocol);
                if (p.HostRange is { } r)
                {
                    w.WriteStartArray("HostRange");
                    w.WriteNumberValue(r.First);
                    w.WriteNumberValue(r.Last);
                    w.WriteEndArray();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The list <see cref="ToJson"/> wrote; null or empty text (a container from before ports) is no ports.</summary>
    public static IReadOnlyList<PortMapping> FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var list = new List<PortMapping>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var m = new PortMapping(
                e.TryGetProperty("HostIp", out var ip) && ip.ValueKind == JsonValueKind.String ? ip.GetString()! : "",
                e.TryGetProperty("HostPort", out var hp) && hp.ValueKind == JsonValueKind.Number ? hp.GetInt32() : 0,
                e.TryGetProperty("ContainerPort", out var cp) && cp.ValueKind == JsonValueKind.Number ? cp.GetInt32() : 0,
                e.TryGetProperty("Protocol", out var pr) && pr.ValueKind == JsonValueKind.String ? pr.GetString()! : "tcp");
            if (e.TryGetProperty("HostRange", out var r) && r.ValueKind == JsonValueKind.Array && r.GetArrayLength() == 2)
            {
                m = m with { HostRange = (r[0].GetInt32(), r[1].GetInt32()) };
            }

            list.Add(m);
        }

        return list;
    }

    /// <summary>Docker's formGroup: <c>80-81/tcp</c> for unpublished ports, <c>0.0.0.0:8000-8002-&gt;8000-8002/tcp</c> for published ones.</summary>
    private static string FormGroup((string Ip, string Type) key, (int First, int Last) g)
    {
        var group = g.First == g.Last ? g.First.ToString(CultureInfo.InvariantCulture) : $"{g.First}-{g.Last}";
        if (key.Ip.Length > 0)
        {
            group = $"{JoinHostPort(key.Ip, group)}->{group}";
        }

        return $"{group}/{key.Type}";
    }

    /// <summary>How Docker shows a binding's address: the empty "all addresses" is <c>0.0.0.0</c>.</summary>
    internal static string ShowIp(string hostIp) => hostIp.Length == 0 ? "0.0.0.0" : hostIp;

    /// <summary>Go's net.JoinHostPort: an IPv6 address is bracketed.</summary>
    internal static string JoinHostPort(string host, string port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";

    /// <summary>
    /// Go's net.ParseIP, which Docker validates with: dotted-quad IPv4 only (C#'s parser also takes <c>1.2.3</c>
    /// and <c>1</c> as legacy forms, which Docker refuses), or IPv6 without a zone.
    /// </summary>
    internal static bool IsIp(string s)
    {
        if (s.Contains(':'))
        {
            foreach (var c in s)
            {
                if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
                {
                    return false;
                }
            }

            return IPAddress.TryParse(s, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var quads = s.Split('.');
        if (quads.Length != 4)
        {
            return false;
        }

        foreach (var q in quads)
        {
            if (q.Length is 0 or > 3 || (q.Length > 1 && q[0] == '0') || !q.All(char.IsAsciiDigit) || int.Parse(q, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Docker's nat.SplitProtoPort: <c>80</c> and <c>80/</c> are tcp; an empty port yields an empty port.</summary>
    private static (string Proto, string Port) SplitProtoPort(string raw)
    {
        var slash = raw.IndexOf('/', StringComparison.Ordinal);
        if (raw.Length == 0 || slash == 0)
        {
            return ("", "");
        }

        if (slash < 0)
        {
            return ("tcp", raw);
        }

        var proto = raw[(slash + 1)..];
        return (proto.Length == 0 ? "tcp" : proto, raw[..slash]);
    }

    /// <summary>Docker's nat.ParsePortRange (<c>80</c> or <c>8000-8010</c>, start &lt;= end), with every port in 1..65535.</summary>
    private static bool TryParseRange(string s, out int start, out int end)
    {
        start = end = 0;
        var dash = s.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!TryParsePort(s, out start))
            {
                return false;
            }

            end = start;
            return true;
        }

        return TryParsePort(s[..dash], out start) && TryParsePort(s[(dash + 1)..], out end) && start <= end;
    }

    private static bool TryParsePort(string s, out int port)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static bool IsProto(string proto) => proto is "tcp" or "udp" or "sctp";
}
