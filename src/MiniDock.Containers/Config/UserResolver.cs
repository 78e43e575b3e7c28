using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>The user a container's process runs as, as Docker resolves it.</summary>
/// <param name="Uid">process.user.uid.</param>
/// <param name="Gid">process.user.gid.</param>
/// <param name="AdditionalGids">The primary gid, then the supplementary groups (implicit-group form only).</param>
/// <param name="Home">The passwd entry's home directory; null when no entry matched.</param>
internal sealed record ResolvedUser(uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids, string? Home);

/// <summary>
/// <c>Config.User</c> / <c>-u</c> → process.user (https://github.com/opencontainers/image-spec/blob/main/conversion.md#configuser),
/// resolved in the container's own /etc/passwd and /etc/group the way runc's libcontainer/user.GetExecUser does
/// for Docker: <c>user</c>, <c>uid</c>, <c>user:group</c>, <c>uid:gid</c> and mixes; an unknown name is an error; a
/// numeric uid need not exist. Supplementary groups come from /etc/group only when no group is given, and the
/// primary gid always leads additionalGids (what Docker does since the CVE-2022-36109 fix, so that a group's
/// negative permissions cannot be dropped with setgroups).
/// </summary>
internal static class UserResolver
{
    private const uint MaxId = int.MaxValue;

    public static ResolvedUser Resolve(string? spec, RootfsFiles rootfs)
    {
        spec ??= "";
        var colon = spec.IndexOf(':');
        var userArg = colon < 0 ? spec : spec[..colon];
        var groupArg = colon < 0 ? "" : spec[(colon + 1)..];
        if (colon >= 0 && (groupArg.Length == 0 || groupArg.Contains(':')))
        {
            throw new ContainerException($"invalid user: {spec} (want name|uid[:group|gid])");
        }

        var uidArg = Numeric(userArg, "uid");
        var gidArg = Numeric(groupArg, "gid");

        uint uid = 0, gid = 0;
        string? name = null, home = null;
        var passwd = rootfs.ReadText("/etc/passwd");
        var found = false;
        foreach (var e in Entries(passwd, 7))
        {
            if (Numeric(e[2]) is not { } eUid || Numeric(e[3]) is not { } eGid)
            {
                continue;
            }

            var match = userArg.Length == 0 ? eUid == 0 : e[0] == userArg || (uidArg is { } u && eUid == u);
            if (match)
            {
                (uid, gid, name, home, found) = (eUid, eGid, e[0], e[5], true);
                break;
            }
        }

        if (!found)
        {
            if (userArg.Length > 0 && uidArg is null)
            {
                throw new ContainerException($"unable to find user {userArg}: no matching entries in passwd file");
            }

            uid = uidArg ?? 0;
        }

        var sgids = new List<uint>();
        if (groupArg.Length > 0 || name is not null)
        {
            var group = rootfs.ReadText("/etc/group");
            var groupFound = false;
            foreach (var g in Entries(group, 4))
            {
                if (Numeric(g[2]) is not { } gGid)
                {
                    continue;
                }

                if (groupArg.Length > 0)
                {
                    if (g[0] == groupArg || (gidArg is { } want && gGid == want))
                    {
                        gid = gGid;
                        groupFound = true;
                        break;
                    }
                }
                else if (g[3].Split(',').Contains(name))
                {
                    sgids.Add(gGid);
                }
            }

            if (groupArg.Length > 0 && !groupFound)
            {
                gid = gidArg ?? throw new ContainerException($"unable to find group {groupArg}: no matching entries in group file");
            }
        }

        var additional = new List<uint> { gid };
        foreach (var g in sgids)
        {
            if (!additional.Contains(g))
            {
                additional.Add(g);
            }
        }

        return new ResolvedUser(uid, gid, additional, string.IsNullOrEmpty(home) ? null : home);
    }

    /// <summary>A decimal id, or null when <paramref name="s"/> is not one (then it is a name).</summary>
    private static uint? Numeric(string s, string? what = null)
    {
        if (s.Length == 0 || !uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return s.Length > 0 && s.All(char.IsAsciiDigit) && what is not null
                ? throw new ContainerException($"{what} {s} is out of range")
                : null;
        }

        return n <= MaxId ? n : what is not null ? throw new ContainerException($"{what} {s} is out of range") : null;
    }

    /// <summary>The colon-separated lines of a passwd(5)/group(5) file, padded to <paramref name="fields"/> fields.</summary>
    private static IEnumerable<string[]> Entries(string? text, int fields)
    {
        if (text is null)
        {
            yield break;
        }

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '+' or '-')
            {
                continue;
            }

            var parts = line.Split(':');
            if (parts.Length < fields)
            {
                Array.Resize(ref parts, fields);
                for (var i = 0; i < fields; i++)
                {
                    parts[i] ??= "";
                }
            }

            yield return parts;
        }
    }
}
