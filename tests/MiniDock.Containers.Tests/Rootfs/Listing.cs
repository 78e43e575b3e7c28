using System.Security.Cryptography;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>
/// Everything observable about a tree, one line per entry, sorted: type, permission bits (setuid, setgid,
/// sticky included), owner, then per type the size and SHA-256 of the content, the symlink target or the
/// device numbers, then xattrs (overlayfs' own trusted.overlay.* hidden, as a mount hides them). The root
/// itself is left out. Walked with lstat only: symlinks are read, never followed.
/// </summary>
internal static class Listing
{
    /// <summary>The full listing, mtimes and link counts included (overlay and copy must agree on them).</summary>
    public static List<string> Of(string root) => Walk(root, withTimes: true);

    /// <summary>Without mtimes and link counts: what a hand-written expectation can state.</summary>
    public static List<string> Shape(string root) => Walk(root, withTimes: false);

    private static List<string> Walk(string root, bool withTimes)
    {
        var lines = new List<string>();
        Recurse(root, string.Empty, withTimes, lines);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static void Recurse(string dir, string rel, bool withTimes, List<string> lines)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir))
        {
            var name = Path.GetFileName(entry);
            var childRel = rel.Length == 0 ? name : rel + "/" + name;
            var st = FsAt.LStat(entry)!.Value;
            var perm = Convert.ToString(st.Mode & 0xFFF, 8).PadLeft(4, '0');
            var line = st.Type switch
            {
                0x4000 => $"{childRel} d {perm} {st.Uid}:{st.Gid}",
                0x8000 => $"{childRel} f {perm} {st.Uid}:{st.Gid} {st.Size} {Sha(entry)}",
                0xA000 => $"{childRel} l {st.Uid}:{st.Gid} -> {Sys.ReadLink(entry)}",
                0x2000 => $"{childRel} c {perm} {st.Uid}:{st.Gid} {st.Major}:{st.Minor}",
                0x6000 => $"{childRel} b {perm} {st.Uid}:{st.Gid} {st.Major}:{st.Minor}",
                0x1000 => $"{childRel} p {perm} {st.Uid}:{st.Gid}",
                _ => $"{childRel} ? 0x{st.Mode:x}",
            };
            var xattrs = FsAt.LListXattr(entry)
                .Where(k => !k.StartsWith("trusted.overlay.", StringComparison.Ordinal))
                .OrderBy(k => k, StringComparer.Ordinal)
                .Select(k => $"{k}={Convert.ToHexString(FsAt.LGetXattr(entry, k) ?? [])}")
                .ToList();
            if (xattrs.Count > 0)
            {
                line += " [" + string.Join(' ', xattrs) + "]";
            }

            if (withTimes)
            {
                line += $" mtime={st.MtimeSec}.{st.MtimeNsec:D9}" + (st.IsDir ? string.Empty : $" nlink={st.Nlink}");
            }

            lines.Add(line);
            if (st.IsDir)
            {
                Recurse(entry, childRel, withTimes, lines);
            }
        }
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))[..12];
}
