using System.Text;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>
/// Hand-made layer directories in overlay form, as <c>LayerExtractor</c> writes them (whiteouts are 0:0
/// character devices, opaque directories carry trusted.overlay.opaque=y), with fixed owners, modes and mtimes.
/// </summary>
internal static class Layers
{
    public const long BaseTime = 1_600_000_000;

    /// <summary>
    /// Three layers, base first. Base: files, a dir that becomes a file, a file that becomes a dir, a
    /// hardlink pair, a setuid binary. Middle: a replaced file, a dir with a user xattr file, an absolute
    /// symlink, a char device, a fifo, a dir later whited out. Top: a whiteout of a base file, a whiteout of a
    /// middle dir, an opaque dir, a dir replaced by a file and a file by a dir, a sticky dir, new attributes on etc.
    /// </summary>
    public static IReadOnlyList<string> MakeThree(string parent)
    {
        var l1 = Path.Combine(parent, "l1");
        Dir(l1, "", 0x1ED);
        Dir(l1, "etc", 0x1ED);
        File(l1, "etc/passwd", "root:x:0:0\n", 0x1A4);
        File(l1, "etc/hidden", "a base file the top layer deletes\n", 0x180, 1000, 1000);
        File(l1, "etc/keep", "kept\n", 0x1A4);
        Dir(l1, "opq", 0x1ED);
        File(l1, "opq/a", "a\n", 0x1A4);
        File(l1, "opq/b", "b\n", 0x1A4);
        Dir(l1, "dir2file", 0x1ED);
        File(l1, "dir2file/x", "x\n", 0x1A4);
        File(l1, "file2dir", "I am a file\n", 0x1A4);
        Dir(l1, "bin", 0x1ED);
        File(l1, "bin/sh", "#!/bin/true\n", 0x1ED);
        Dir(l1, "usr", 0x1ED);
        Dir(l1, "usr/bin", 0x1ED);
        File(l1, "usr/bin/su", "setuid\n", 0x9ED /* 04755 */);
        Dir(l1, "lib", 0x1ED);
        File(l1, "lib/hl1", "hardlinked\n", 0x1A4, 7, 8);
        FsAt.LinkAt(Consts.AtFdCwd, Path.Combine(l1, "lib/hl1"), Consts.AtFdCwd, Path.Combine(l1, "lib/hl2"));

        var l2 = Path.Combine(parent, "l2");
        Dir(l2, "", 0x1ED);
        Dir(l2, "etc", 0x1ED);
        File(l2, "etc/passwd", "root:x:0:0:from layer 2\n", 0x1A4);
        File(l2, "etc/keep", "kept, with an xattr\n", 0x1A4);
        FsAt.LSetXattr(Path.Combine(l2, "etc/keep"), "user.test", "value"u8);
        Dir(l2, "usr", 0x1ED);
        Dir(l2, "usr/share", 0x1ED);
        Dir(l2, "usr/share/doc", 0x1ED);
        File(l2, "usr/share/doc/readme", "doc\n", 0x1A4);
        Symlink(l2, "link", "/etc/passwd", 5, 6);
        Dir(l2, "dev", 0x1ED);
        Node(l2, "dev/null", StatMode.IfChr, 0x1B6, 1, 3);
        Dir(l2, "run", 0x1ED);
        Node(l2, "run/fifo", StatMode.IfIfo, 0x180, 0, 0);
        Dir(l2, "opq", 0x1ED);
        File(l2, "opq/c", "c\n", 0x1A4);

        var l3 = Path.Combine(parent, "l3");
        Dir(l3, "", 0x1ED);
        Dir(l3, "etc", 0x1E8 /* 0750 */, 0, 42);
        Whiteout(l3, "etc/hidden");
        Dir(l3, "usr", 0x1ED);
        Dir(l3, "usr/share", 0x1ED);
        Whiteout(l3, "usr/share/doc");
        Dir(l3, "opq", 0x1C0 /* 0700 */);
        FsAt.LSetXattr(Path.Combine(l3, "opq"), "trusted.overlay.opaque", "y"u8);
        File(l3, "opq/new", "only this\n", 0x1A4);
        File(l3, "dir2file", "now a file\n", 0x1A4);
        Dir(l3, "file2dir", 0x1ED);
        File(l3, "file2dir/inner", "inner\n", 0x1A4);
        Dir(l3, "tmp", 0x3FF /* 01777 */);

        var layers = new[] { l1, l2, l3 };
        for (var i = 0; i < layers.Length; i++)
        {
            StampTimes(layers[i], BaseTime + (1000 * i));
        }

        return layers;
    }

    /// <summary>What the three layers above merge to, in <see cref="Listing.Shape"/> form.</summary>
    public static List<string> ExpectedThree()
    {
        var lines = new List<string>
        {
            "bin d 0755 0:0",
            $"bin/sh f 0755 0:0 {Blob("#!/bin/true\n")}",
            $"dev d 0755 0:0",
            "dev/null c 0666 0:0 1:3",
            $"dir2file f 0644 0:0 {Blob("now a file\n")}",
            "etc d 0750 0:42",
            $"etc/keep f 0644 0:0 {Blob("kept, with an xattr\n")} [user.test={Convert.ToHexString("value"u8)}]",
            $"etc/passwd f 0644 0:0 {Blob("root:x:0:0:from layer 2\n")}",
            "file2dir d 0755 0:0",
            $"file2dir/inner f 0644 0:0 {Blob("inner\n")}",
            "lib d 0755 0:0",
            $"lib/hl1 f 0644 7:8 {Blob("hardlinked\n")}",
            $"lib/hl2 f 0644 7:8 {Blob("hardlinked\n")}",
            "link l 5:6 -> /etc/passwd",
            "opq d 0700 0:0",
            $"opq/new f 0644 0:0 {Blob("only this\n")}",
            "run d 0755 0:0",
            "run/fifo p 0600 0:0",
            "tmp d 1777 0:0",
            "usr d 0755 0:0",
            "usr/bin d 0755 0:0",
            $"usr/bin/su f 4755 0:0 {Blob("setuid\n")}",
            "usr/share d 0755 0:0",
        };
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public static void Dir(string layer, string rel, uint mode, uint uid = 0, uint gid = 0)
    {
        var p = rel.Length == 0 ? layer : Path.Combine(layer, rel);
        Directory.CreateDirectory(p);
        Own(p, uid, gid);
        FsAt.ChmodAt(Consts.AtFdCwd, p, mode);
    }

    public static void File(string layer, string rel, string content, uint mode, uint uid = 0, uint gid = 0)
    {
        var p = Path.Combine(layer, rel);
        System.IO.File.WriteAllText(p, content);
        Own(p, uid, gid);
        FsAt.ChmodAt(Consts.AtFdCwd, p, mode); // after chown, which clears setuid
    }

    public static void Symlink(string layer, string rel, string target, uint uid = 0, uint gid = 0)
    {
        var p = Path.Combine(layer, rel);
        Sys.Check(Libc.symlinkat(target, Consts.AtFdCwd, p), $"symlink {p}");
        Own(p, uid, gid);
    }

    public static void Node(string layer, string rel, uint type, uint mode, uint major, uint minor)
    {
        var p = Path.Combine(layer, rel);
        Sys.Check(Libc.mknodat(Consts.AtFdCwd, p, type | mode, FsAt.MakeDev(major, minor)), $"mknod {p}");
        FsAt.ChmodAt(Consts.AtFdCwd, p, mode);
    }

    public static void Whiteout(string layer, string rel) => Node(layer, rel, StatMode.IfChr, 0, 0, 0);

    /// <summary>Gives every entry of a layer the mtime <paramref name="sec"/> (+ a per-entry offset), children before their directory.</summary>
    public static void StampTimes(string dir, long sec)
    {
        var i = 0;
        Stamp(dir, sec, ref i);
    }

    /// <summary>The size and hash part of a file's listing line.</summary>
    public static string Blob(string content) => $"{Encoding.UTF8.GetByteCount(content)} {Sha(content)}";

    public static string Sha(string content) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..12];

    private static void Stamp(string dir, long sec, ref int i)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
        {
            if (FsAt.LStat(entry) is { IsDir: true })
            {
                Stamp(entry, sec, ref i);
            }
            else
            {
                FsAt.SetTimesAt(Consts.AtFdCwd, entry, sec + i++, 123_456_789, noFollow: true);
            }
        }

        FsAt.SetTimesAt(Consts.AtFdCwd, dir, sec + i++, 987_654_321, noFollow: true);
    }

    private static void Own(string p, uint uid, uint gid) => Sys.Check(Libc.fchownat(Consts.AtFdCwd, p, uid, gid, Consts.AtSymlinkNoFollow), $"chown {p}");
}
