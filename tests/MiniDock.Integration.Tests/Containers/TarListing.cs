using System.Globalization;
using System.Text;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// One entry of a rootfs listing: path (relative, no leading '/'), type (f d l c b p s), permission bits with
/// setuid/setgid/sticky, owner, and what identifies the content: for a file its size, the start of its sha256
/// and its link count; for a symlink its target, verbatim; for a device its major:minor. The mtime is compared
/// only where the expected entry names one.
/// </summary>
public sealed record TarNode(string Path, char Type, int Mode, long Uid, long Gid, string Detail, long? Mtime = null)
{
    public static TarNode Dir(string path, int mode = 0x1ED, long uid = 0, long gid = 0, long? mtime = null) =>
        new(path, 'd', mode, uid, gid, "", mtime);

    public static TarNode File(string path, string content, int mode = 0x1A4, long uid = 0, long gid = 0, int links = 1, long? mtime = null) =>
        File(path, Encoding.UTF8.GetBytes(content), mode, uid, gid, links, mtime);

    public static TarNode File(string path, byte[] content, int mode = 0x1A4, long uid = 0, long gid = 0, int links = 1, long? mtime = null) =>
        new(path, 'f', mode, uid, gid, FileDetail(content.Length, TarHash.Short(content), links), mtime);

    public static TarNode Symlink(string path, string target) => new(path, 'l', 0x1FF, 0, 0, "-> " + target);

    public static TarNode Device(string path, char type, int major, int minor, int mode, long uid = 0, long gid = 0) =>
        new(path, type, mode, uid, gid, $"dev={major}:{minor}");

    public static TarNode Fifo(string path, int mode) => new(path, 'p', mode, 0, 0, "");

    public static string FileDetail(long size, string hash, long links) => $"size={size} sha256={hash} links={links}";

    /// <summary>"path type mode uid:gid detail [mtime=N]", the line both listings are compared by.</summary>
    public string Line(bool withMtime) =>
        $"/{Path} {Type} {Convert.ToString(Mode, 8).PadLeft(4, '0')} {Uid}:{Gid}{(Detail.Length > 0 ? " " + Detail : "")}{(withMtime ? $" mtime={Mtime}" : "")}";
}

/// <summary>Lists a rootfs as <see cref="TarNode"/>s (via find + stat, so owners and device numbers are the kernel's) and compares listings.</summary>
public static class TarListing
{
    private const string StatFormat = "%n\t%F\t%a\t%u\t%g\t%s\t%h\t%t\t%T\t%Y\t%i\n";

    /// <summary>Every entry under <paramref name="root"/> (the root itself excluded), by path.</summary>
    public static IReadOnlyDictionary<string, TarNode> Read(string root, out IReadOnlyDictionary<string, long> inodes)
    {
        root = root.TrimEnd('/');
        var r = ProcessRunner.Run("find", [root, "-mindepth", "1", "-exec", "/usr/bin/stat", "--printf", StatFormat, "{}", "+"], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 0, "listing the rootfs failed: " + r.Describe());
        var nodes = new SortedDictionary<string, TarNode>(StringComparer.Ordinal);
        var ino = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            Assert.True(f.Length == 11 && f[0].StartsWith(root + "/", StringComparison.Ordinal), $"unexpected stat line: {line}");
            var full = f[0];
            var rel = full[(root.Length + 1)..];
            var mode = Convert.ToInt32(f[2], 8);
            var uid = long.Parse(f[3], CultureInfo.InvariantCulture);
            var gid = long.Parse(f[4], CultureInfo.InvariantCulture);
            var size = long.Parse(f[5], CultureInfo.InvariantCulture);
            var links = long.Parse(f[6], CultureInfo.InvariantCulture);
            var dev = $"dev={Convert.ToInt32(f[7], 16)}:{Convert.ToInt32(f[8], 16)}";
            var mtime = long.Parse(f[9], CultureInfo.InvariantCulture);
            ino[rel] = long.Parse(f[10], CultureInfo.InvariantCulture);
            nodes[rel] = f[1] switch
            {
                "regular file" or "regular empty file" => new TarNode(rel, 'f', mode, uid, gid, TarNode.FileDetail(size, TarHash.Short(System.IO.File.ReadAllBytes(full)), links), mtime),
                "directory" => new TarNode(rel, 'd', mode, uid, gid, "", mtime),
                "symbolic link" => new TarNode(rel, 'l', mode, uid, gid, "-> " + new FileInfo(full).LinkTarget, mtime),
                "character special file" => new TarNode(rel, 'c', mode, uid, gid, dev, mtime),
                "block special file" => new TarNode(rel, 'b', mode, uid, gid, dev, mtime),
                "fifo" => new TarNode(rel, 'p', mode, uid, gid, "", mtime),
                "socket" => new TarNode(rel, 's', mode, uid, gid, "", mtime),
                var t => new TarNode(rel, '?', mode, uid, gid, t, mtime),
            };
        }

        inodes = ino;
        return nodes;
    }

    /// <summary>
    /// Fails with every missing, unexpected and different entry (one per line) unless the actual listing,
    /// restricted to <paramref name="under"/> (a top-level path; null: everything), equals the expected one.
    /// </summary>
    public static void AssertMatches(IEnumerable<TarNode> expected, IReadOnlyDictionary<string, TarNode> actual, string? under, string context)
    {
        bool InScope(string p) => under is null || p == under || p.StartsWith(under + "/", StringComparison.Ordinal);
        var want = expected.Where(e => InScope(e.Path)).ToDictionary(e => e.Path, StringComparer.Ordinal);
        Assert.True(want.Count > 0, $"nothing expected under {under}: the test itself is wrong");
        var problems = new List<string>();
        foreach (var path in want.Keys.Union(actual.Keys.Where(InScope)).Order(StringComparer.Ordinal))
        {
            want.TryGetValue(path, out var e);
            actual.TryGetValue(path, out var a);
            if (a is null)
            {
                problems.Add($"missing:    {e!.Line(e.Mtime is not null)}");
            }
            else if (e is null)
            {
                problems.Add($"unexpected: {a.Line(false)}");
            }
            else if (e.Line(e.Mtime is not null) != a.Line(e.Mtime is not null))
            {
                problems.Add($"expected:   {e.Line(e.Mtime is not null)}\n  actual:   {a.Line(e.Mtime is not null)}");
            }
        }

        Assert.True(problems.Count == 0, $"{context}: the rootfs differs from the expected listing{(under is null ? "" : $" under /{under}")}:\n" + string.Join("\n", problems));
    }
}
