namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>One line of /proc/PID/mountinfo (see proc(5)).</summary>
public sealed record MountInfo(string Root, string MountPoint, IReadOnlyList<string> MountOptions, string FsType, string Source, IReadOnlyList<string> SuperOptions, string Line)
{
    public bool IsReadOnly => MountOptions.Contains("ro");

    /// <summary>The test process's own mount table.</summary>
    public static IReadOnlyList<MountInfo> ReadSelf() => Parse(File.ReadAllText("/proc/self/mountinfo"));

    /// <summary>Parses mountinfo text (e.g. printed by <c>cat /proc/self/mountinfo</c> inside a container); skips other lines.</summary>
    public static IReadOnlyList<MountInfo> Parse(string text)
    {
        var list = new List<MountInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            var sep = Array.IndexOf(f, "-");
            if (f.Length < 10 || sep < 6 || sep + 3 >= f.Length)
            {
                continue;
            }

            list.Add(new MountInfo(
                Unescape(f[3]),
                Unescape(f[4]),
                f[5].Split(','),
                f[sep + 1],
                Unescape(f[sep + 2]),
                f[sep + 3].Split(','),
                line));
        }

        return list;
    }

    /// <summary>The topmost mount at exactly this mount point, or null.</summary>
    public static MountInfo? At(IReadOnlyList<MountInfo> mounts, string mountPoint) =>
        mounts.LastOrDefault(m => m.MountPoint == mountPoint);

    private static string Unescape(string s) =>
        s.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
