namespace MiniDock.Runtime.Mounts;

/// <summary>One line of /proc/self/mountinfo, as much of it as the engine needs.</summary>
public sealed record MountInfo(string MountPoint, string FsType, bool Shared)
{
    public static IReadOnlyList<MountInfo> Read(string file = "/proc/self/mountinfo")
    {
        var list = new List<MountInfo>();
        foreach (var line in File.ReadLines(file))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0)
            {
                continue;
            }

            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            list.Add(new MountInfo(Unescape(left[4]), right[0], left.Skip(6).Any(f => f.StartsWith("shared:", StringComparison.Ordinal))));
        }

        return list;
    }

    /// <summary>The mount that holds <paramref name="path"/> (the longest mount point that is a prefix of it).</summary>
    public static MountInfo? ParentMountOf(string path)
    {
        MountInfo? best = null;
        foreach (var m in Read())
        {
            var mp = m.MountPoint;
            if ((path == mp || path.StartsWith(mp.TrimEnd('/') + "/", StringComparison.Ordinal) || mp == "/") && (best is null || mp.Length >= best.MountPoint.Length))
            {
                best = m;
            }
        }

        return best;
    }

    private static string Unescape(string s) => s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
