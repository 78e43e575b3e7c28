using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--userns-remap</c>: the container's uids and gids <c>0..Size-1</c> are host ids <c>HostId..HostId+Size-1</c>,
/// as with Docker's daemon option of that name (https://docs.docker.com/engine/security/userns-remap/), here per
/// container. The spec is <c>HOSTID:SIZE</c> (the same range for gids), or <c>default</c> / a user name looked up
/// in /etc/subuid and /etc/subgid (subuid(5): <c>name:first:count</c>, the first line of that name wins;
/// <c>default</c> means the user <c>dockremap</c>, as Docker). The resolved <c>HOSTID:SIZE</c> (uid range; the gid
/// range when it differs is kept too as <c>HOSTUID:SIZE:HOSTGID:GSIZE</c>) is what the container store keeps, so
/// that a later edit of /etc/subuid does not change an existing container.
/// </summary>
public sealed record UsernsRemap(uint HostUid, uint UidSize, uint HostGid, uint GidSize)
{
    /// <summary>The user <c>default</c> stands for, as in Docker.</summary>
    public const string DefaultUser = "dockremap";

    /// <summary>The stored form: <c>HOSTID:SIZE</c>, or four numbers when gids differ.</summary>
    public override string ToString() => HostUid == HostGid && UidSize == GidSize
        ? string.Create(CultureInfo.InvariantCulture, $"{HostUid}:{UidSize}")
        : string.Create(CultureInfo.InvariantCulture, $"{HostUid}:{UidSize}:{HostGid}:{GidSize}");

    /// <summary>Whether container uid <paramref name="uid"/> is mapped.</summary>
    public bool MapsUid(uint uid) => uid < UidSize;

    /// <summary>Whether container gid <paramref name="gid"/> is mapped.</summary>
    public bool MapsGid(uint gid) => gid < GidSize;

    /// <summary>
    /// Resolves what the user typed; null or empty is no remap. Numbers are taken as they are; a name is looked up
    /// in <paramref name="subuid"/> and <paramref name="subgid"/> (null: /etc/subuid, /etc/subgid).
    /// </summary>
    public static UsernsRemap? Resolve(string? spec, string? subuid = null, string? subgid = null)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return null;
        }

        spec = spec.Trim();
        if (TryNumeric(spec) is { } numeric)
        {
            return numeric;
        }

        if (spec.Contains(':', StringComparison.Ordinal) || spec.Any(char.IsWhiteSpace))
        {
            throw new ContainerException($"invalid --userns-remap '{spec}': want HOSTID:SIZE, 'default', or a user name from /etc/subuid");
        }

        var user = spec == "default" ? DefaultUser : spec;
        var uids = Lookup(subuid ?? "/etc/subuid", user);
        var gids = Lookup(subgid ?? "/etc/subgid", user);
        if (uids is null || gids is null)
        {
            throw new ContainerException($"--userns-remap {spec}: no entry for '{user}' in {(uids is null ? subuid ?? "/etc/subuid" : subgid ?? "/etc/subgid")}: add '{user}:100000:65536' to /etc/subuid and /etc/subgid, or pass --userns-remap 100000:65536");
        }

        return Checked(spec, uids.Value.First, uids.Value.Count, gids.Value.First, gids.Value.Count);
    }

    /// <summary>The stored form back (always numeric); null or empty: no remap.</summary>
    public static UsernsRemap? Parse(string? stored) => string.IsNullOrEmpty(stored) ? null : TryNumeric(stored) ?? Resolve(stored);

    private static UsernsRemap? TryNumeric(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is not (2 or 4) || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            return null;
        }

        if (!parts.All(p => ulong.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= uint.MaxValue))
        {
            throw new ContainerException($"invalid --userns-remap '{spec}': a number is out of range");
        }

        var n = parts.Select(p => uint.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        return parts.Length == 2 ? Checked(spec, n[0], n[1], n[0], n[1]) : Checked(spec, n[0], n[1], n[2], n[3]);
    }

    private static UsernsRemap Checked(string spec, uint hostUid, uint uidSize, uint hostGid, uint gidSize)
    {
        if (uidSize == 0 || gidSize == 0)
        {
            throw new ContainerException($"invalid --userns-remap '{spec}': the range size must be at least 1");
        }

        if (hostUid == 0 || hostGid == 0)
        {
            // Mapping container root to host root would make the remap pointless (and the layers' root-owned files writable).
            throw new ContainerException($"invalid --userns-remap '{spec}': the host range must not start at 0 (that is host root)");
        }

        if ((ulong)hostUid + uidSize > uint.MaxValue || (ulong)hostGid + gidSize > uint.MaxValue)
        {
            throw new ContainerException($"invalid --userns-remap '{spec}': the range goes past uid 4294967294");
        }

        return new UsernsRemap(hostUid, uidSize, hostGid, gidSize);
    }

    /// <summary>The first <c>name:first:count</c> line for <paramref name="user"/>, or null (also when the file is missing).</summary>
    internal static (uint First, uint Count)? Lookup(string file, string user)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        foreach (var raw in File.ReadLines(file))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var f = line.Split(':');
            if (f.Length == 3 && f[0] == user
                && uint.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return (first, count);
            }
        }

        return null;
    }
}
