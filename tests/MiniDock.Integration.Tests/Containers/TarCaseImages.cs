using System.Formats.Tar;
using System.Text;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// The hand-made images of the tar-case tests, built once per test process into one OCI layout (TarWriter for
/// every entry, gzip in .NET, zstd by its CLI, JSON by hand), and what a container made from the main one must
/// show. Each case lives under its own top-level directory, so a test can compare just its part of the listing.
/// <para>tarcase/main: layer 1 PAX + gzip (busybox and the lower entries), layer 2 GNU + zstd (whiteouts, opaque
/// markers, replacements, GNU long names), layer 3 USTAR, uncompressed (a directory again, a prefix-split name).</para>
/// <para>The hostile images have one gzip'd PAX layer each; tarcase/hardlink-lower has a layer-2 hardlink to a
/// layer-1 file.</para>
/// </summary>
public static class TarCaseImages
{
    public const string Main = "tarcase/main:latest";
    public const string HardlinkLower = "tarcase/hardlink-lower:latest";
    public const string DotDot = "tarcase/dotdot:latest";
    public const string Absolute = "tarcase/absolute:latest";
    public const string SymlinkEscape = "tarcase/symlink-escape:latest";
    public const string HardlinkEscape = "tarcase/hardlink-escape:latest";
    public const string CapSetuid = "tarcase/cap-setuid:latest";

    public const string LongPaxDir = "long/" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789" + "p123456789";
    public const string LongGnuDir = "long/" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789" + "g123456789";

    /// <summary>The seconds since the epoch of the two entries whose mtimes are compared.</summary>
    public const long DatedFileMtime = 1_000_000_000;
    public const long DatedDirMtime = 1_234_567_890;

    /// <summary>vfs_cap_data revision 2, effective, permitted = CAP_NET_RAW (13): "cap_net_raw=ep".</summary>
    public static readonly byte[] Capability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>
    /// "cap_setuid=ep": permitted bit 7 makes byte 4 0x80, so the value is not UTF-8, as GNU tar writes it raw into
    /// SCHILY.xattr.security.capability (Fedora's newuidmap/newgidmap carry exactly this).
    /// </summary>
    public static readonly byte[] SetuidCapability = [0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public const string UserXattr = "value of user.foo";
    public const string DirXattr = "on a directory";
    public const string LibarchiveXattr = "base64 from libarchive";

    public const string LayerTwoX = "layer 2 x\n";
    public const string SwapAgain = "back to a directory in layer 3\n";

    /// <summary>This process's token in hostile names, so no two runs share an outside target.</summary>
    public static readonly string Token = Guid.NewGuid().ToString("N")[..12];

    /// <summary>What the "../../escape" entry would create if it climbed out (relative to DATA/layers/&lt;tmp&gt;).</summary>
    public static string EscapeName => $"escape-{Token}";

    /// <summary>The absolute entry names /etc/&lt;this&gt;.</summary>
    public static string AbsoluteName => $"tarcase-evil-{Token}";

    /// <summary>The symlink entry points here, a host dir the test creates; the next entry writes through it.</summary>
    public static string OutsideDir => $"/tmp/tarcase-outside-{Token}";

    /// <summary>"../" enough times to reach the host's / from any data dir, then etc/passwd.</summary>
    public const string HardlinkEscapeTarget = "../../../../../../../../../../../../../../../../etc/passwd";

    public static readonly string LongPaxName = LongPaxDir + "/" + new string('P', 140) + ".txt";
    public static readonly string LongGnuName = LongGnuDir + "/" + new string('G', 150);
    public static readonly string LongGnuHardlink = "long/" + new string('h', 110);
    public static readonly string LongPaxTarget = "/" + new string('t', 70) + "/" + new string('T', 70);
    public static readonly string LongGnuTarget = "../" + new string('u', 60) + "/" + new string('U', 60);
    public static readonly string UstarDir = "ustar/" + new string('q', 60);
    public static readonly string UstarName = UstarDir + "/" + new string('r', 60);

    private static readonly Lazy<string> SharedLayout = new(BuildLayout, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The host's busybox-static, copied into layer 1 as /bin/busybox (and as the xattr case's binary).</summary>
    public static readonly Lazy<byte[]> Busybox = new(() => File.ReadAllBytes(
        new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("busybox-static not installed (/bin/busybox)")));

    public static string LayoutDir => SharedLayout.Value;

    /// <summary>The exact manifest bytes of every image, by "REPO:TAG" (filled while the layout is built).</summary>
    public static IReadOnlyDictionary<string, byte[]> Manifests { get; private set; } = new Dictionary<string, byte[]>();

    /// <summary>
    /// What the merged rootfs of tarcase/main must list, entry for entry (the root itself left out). Written out
    /// by hand from the rules (image-spec layer.md; overlayfs), not derived from the layers.
    /// </summary>
    public static IReadOnlyList<TarNode> ExpectedMain() =>
    [
        // Busybox for `run` (layer 1).
        TarNode.Dir("bin"),
        TarNode.File("bin/busybox", Busybox.Value, mode: 0x1ED),
        TarNode.Symlink("bin/cat", "busybox"),
        TarNode.Symlink("bin/sh", "busybox"),

        // 1. Whiteouts: gone.txt and gonedir (with its subtree) hidden; x and y re-added by layer 2 itself stay.
        TarNode.Dir("wh"),
        TarNode.File("wh/kept.txt", "layer 1 kept\n"),
        TarNode.File("wh/x", LayerTwoX),
        TarNode.File("wh/y", "layer 2 y\n"),

        // 2. Opaque: only layer 2's own entries, whether the marker came first (opq) or last (opq2).
        TarNode.Dir("opq"),
        TarNode.File("opq/new", "new in layer 2\n"),
        TarNode.Dir("opq2"),
        TarNode.File("opq2/mine", "mine, before the marker\n"),
        TarNode.Dir("opq2/sub"),
        TarNode.File("opq2/sub/deep", "deep, before the marker\n"),

        // 3. Replacements: dir -> file -> dir (layer 1's child gone), dir -> file, file -> dir; dir over dir.
        TarNode.Dir("swap", mode: 0x1C0),
        TarNode.File("swap/again", SwapAgain),
        TarNode.File("dir2file", "dir2file is a file now\n"),
        TarNode.Dir("file2dir"),
        TarNode.File("file2dir/inner", "inner\n"),
        TarNode.Dir("attrs", mode: 0x1C0, uid: 1000, gid: 1000),
        TarNode.File("attrs/f", "kept under a re-owned directory\n"),

        // 4. Hardlinks within a layer: one inode, its link count (PAX layer 1, GNU layer 2).
        TarNode.Dir("hl"),
        TarNode.File("hl/orig", "hardlinked in a PAX layer\n", mode: 0x1A0, links: 3),
        TarNode.File("hl/same", "hardlinked in a PAX layer\n", mode: 0x1A0, links: 3),
        TarNode.Dir("hl/sub"),
        TarNode.File("hl/sub/deep", "hardlinked in a PAX layer\n", mode: 0x1A0, links: 3),
        TarNode.Dir("hl2"),
        TarNode.File("hl2/a", "hardlinked in a GNU layer\n", links: 2),
        TarNode.File("hl2/b", "hardlinked in a GNU layer\n", links: 2),

        // 5. Long names: PAX path/linkpath, GNU L/K (a long hardlink name and target too).
        TarNode.Dir("long"),
        TarNode.Dir(LongGnuDir),
        TarNode.File(LongGnuName, "gnu long name\n", links: 2),
        TarNode.File(LongGnuHardlink, "gnu long name\n", links: 2),
        TarNode.Dir(LongPaxDir),
        TarNode.File(LongPaxName, "pax long name\n"),
        TarNode.Symlink("long/gnu-symlink", LongGnuTarget),
        TarNode.Symlink("long/pax-symlink", LongPaxTarget),
        TarNode.Dir("ustar"),
        TarNode.Dir(UstarDir),
        TarNode.File(UstarName, "ustar prefix and name\n"),

        // 6. Xattrs (checked with getfattr by their own test).
        TarNode.Dir("xattr"),
        TarNode.File("xattr/capbin", Busybox.Value, mode: 0x1ED),
        TarNode.File("xattr/plain", "has user xattrs\n"),

        // 7. Devices, fifo, special modes, owners, an absolute symlink, big ids, mtimes.
        TarNode.Dir("special"),
        TarNode.Symlink("special/abs", "/usr/share/tarcase/absolute/target"),
        TarNode.File("special/bigids", "pax uid/gid over 2^21\n", uid: 3_000_000, gid: 3_000_001),
        TarNode.Device("special/blk", 'b', 7, 0, mode: 0x1B0, gid: 6),
        TarNode.File("special/dated", "dated\n", mtime: DatedFileMtime),
        TarNode.Dir("special/dateddir", mtime: DatedDirMtime),
        TarNode.Fifo("special/fifo", mode: 0x1A4),
        TarNode.File("special/gnubig", "gnu base-256 ids\n", uid: 4_000_000, gid: 4_000_001),
        TarNode.Device("special/null", 'c', 1, 3, mode: 0x1B6),
        TarNode.File("special/owned", "owned by 1000\n", mode: 0x180, uid: 1000, gid: 1000),
        TarNode.Dir("special/owneddir", mode: 0x1E8, uid: 1000, gid: 1000),
        TarNode.File("special/sgid", "setgid\n", mode: 0x5ED),
        TarNode.Dir("special/sgiddir", mode: 0x5FD, gid: 1000),
        TarNode.Dir("special/sticky", mode: 0x3FF),
        TarNode.File("special/suid", "setuid\n", mode: 0x9ED),

        // Parents with no tar entry: 0755 root:root.
        TarNode.Dir("implicit"),
        TarNode.Dir("implicit/parent"),
        TarNode.File("implicit/parent/file", "no parent entries\n"),
    ];

    /// <summary>Layer 1, PAX: busybox and everything the upper layers act on.</summary>
    public static byte[] MainLayer1()
    {
        var w = new TarLayerWriter(TarEntryFormat.Pax);
        w.Dir("bin").File("bin/busybox", Busybox.Value, mode: 0x1ED).Symlink("bin/sh", "busybox").Symlink("bin/cat", "busybox");

        w.Dir("wh").File("wh/gone.txt", "layer 1 gone\n")
            .Dir("wh/gonedir").File("wh/gonedir/a", "a\n").Dir("wh/gonedir/sub").File("wh/gonedir/sub/b", "b\n")
            .File("wh/kept.txt", "layer 1 kept\n").File("wh/x", "layer 1 x\n").File("wh/y", "layer 1 y\n");

        w.Dir("opq").File("opq/low1", "low1\n").Dir("opq/lowdir").File("opq/lowdir/c", "c\n");
        w.Dir("opq2").File("opq2/low", "low\n").Dir("opq2/sub").File("opq2/sub/lowchild", "lowchild\n");

        w.Dir("swap").File("swap/child", "child of the first directory\n");
        w.Dir("dir2file").File("dir2file/c", "c\n");
        w.File("file2dir", "was a file\n");
        w.Dir("attrs").File("attrs/f", "kept under a re-owned directory\n");

        w.Dir("hl").File("hl/orig", "hardlinked in a PAX layer\n", mode: 0x1A0).HardLink("hl/same", "hl/orig")
            .Dir("hl/sub").HardLink("hl/sub/deep", "hl/orig");

        w.Dir("long").Dir(LongPaxDir).File(LongPaxName, "pax long name\n").Symlink("long/pax-symlink", LongPaxTarget);

        w.Dir("xattr", pax: [new("SCHILY.xattr.user.dir", DirXattr)])
            .File("xattr/plain", "has user xattrs\n", pax:
            [
                new("SCHILY.xattr.user.foo", UserXattr),
                new("LIBARCHIVE.xattr.user.lib", Convert.ToBase64String(Encoding.UTF8.GetBytes(LibarchiveXattr)).TrimEnd('=')),
            ])
            .File("xattr/capbin", Busybox.Value, mode: 0x1ED, pax: [new("SCHILY.xattr.security.capability", Encoding.Latin1.GetString(Capability))]);

        w.Dir("special")
            .CharDevice("special/null", 1, 3, mode: 0x1B6)
            .BlockDevice("special/blk", 7, 0, mode: 0x1B0, gid: 6)
            .Fifo("special/fifo", mode: 0x1A4)
            .File("special/suid", "setuid\n", mode: 0x9ED)
            .File("special/sgid", "setgid\n", mode: 0x5ED)
            .Dir("special/sgiddir", mode: 0x5FD, gid: 1000)
            .Dir("special/sticky", mode: 0x3FF)
            .File("special/owned", "owned by 1000\n", mode: 0x180, uid: 1000, gid: 1000)
            .Dir("special/owneddir", mode: 0x1E8, uid: 1000, gid: 1000)
            .Symlink("special/abs", "/usr/share/tarcase/absolute/target")
            .File("special/dated", "dated\n", mtime: DatedFileMtime)
            .Dir("special/dateddir", mtime: DatedDirMtime)
            .File("special/bigids", "pax uid/gid over 2^21\n", uid: 3_000_000, gid: 3_000_001);

        w.File("implicit/parent/file", "no parent entries\n");
        return w.ToArray();
    }

    /// <summary>Layer 2, GNU: whiteouts (before and after their own re-adds), opaque markers (first and last), replacements, GNU long names.</summary>
    public static byte[] MainLayer2()
    {
        var w = new TarLayerWriter(TarEntryFormat.Gnu);
        w.Dir("wh").Whiteout("wh/gone.txt").Whiteout("wh/gonedir")
            .Whiteout("wh/x").File("wh/x", LayerTwoX)
            .File("wh/y", "layer 2 y\n").Whiteout("wh/y");

        w.Dir("opq").Opaque("opq").File("opq/new", "new in layer 2\n");
        w.Dir("opq2").File("opq2/mine", "mine, before the marker\n").Dir("opq2/sub").File("opq2/sub/deep", "deep, before the marker\n").Opaque("opq2");

        w.File("swap", "swap is a file in layer 2\n");
        w.File("dir2file", "dir2file is a file now\n");
        w.Dir("file2dir").File("file2dir/inner", "inner\n");
        w.Dir("attrs", mode: 0x1C0, uid: 1000, gid: 1000);

        w.Dir("hl2").File("hl2/a", "hardlinked in a GNU layer\n").HardLink("hl2/b", "hl2/a");

        w.Dir("long").Dir(LongGnuDir).File(LongGnuName, "gnu long name\n").HardLink(LongGnuHardlink, LongGnuName)
            .Symlink("long/gnu-symlink", LongGnuTarget);

        w.Dir("special").File("special/gnubig", "gnu base-256 ids\n", uid: 4_000_000, gid: 4_000_001);
        return w.ToArray();
    }

    /// <summary>Layer 3, USTAR, uncompressed: swap is a directory again; a name split into prefix and name.</summary>
    public static byte[] MainLayer3()
    {
        var w = new TarLayerWriter(TarEntryFormat.Ustar);
        w.Dir("swap", mode: 0x1C0).File("swap/again", SwapAgain);
        w.Dir("ustar").Dir(UstarDir).File(UstarName, "ustar prefix and name\n");
        return w.ToArray();
    }

    /// <summary>
    /// One PAX layer with xattr/setuidcap carrying <see cref="SetuidCapability"/> as raw bytes. TarWriter only
    /// writes strings (as UTF-8), so the record is written with 0x7E in place of 0x80 and patched afterwards: same
    /// length, and PAX data is outside the header checksum.
    /// </summary>
    public static byte[] CapSetuidLayer()
    {
        var placeholder = (byte[])SetuidCapability.Clone();
        placeholder[4] = 0x7E;
        var tar = new TarLayerWriter(TarEntryFormat.Pax).Dir("xattr")
            .File("xattr/setuidcap", "a binary with file capabilities\n", mode: 0x1ED, pax: [new("SCHILY.xattr.security.capability", Encoding.Latin1.GetString(placeholder))])
            .ToArray();
        var record = Encoding.ASCII.GetBytes("SCHILY.xattr.security.capability=").Concat(placeholder).ToArray();
        var at = tar.AsSpan().IndexOf(record);
        if (at < 0 || tar.AsSpan(at + 1).IndexOf(record) >= 0)
        {
            throw new InvalidOperationException("the capability record is not in the tar exactly once");
        }

        tar[at + record.Length - placeholder.Length + 4] = 0x80;
        return tar;
    }

    private static byte[] OneLayer(Action<TarLayerWriter> entries)
    {
        var w = new TarLayerWriter(TarEntryFormat.Pax);
        w.Dir("etc").File("etc/benign", "a harmless first entry\n");
        entries(w);
        return w.ToArray();
    }

    /// <summary>Builds the layout once per test process (removed when the process exits).</summary>
    private static string BuildLayout()
    {
        var root = Directory.CreateTempSubdirectory("minidock-tarcase-layout-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };

        var layout = new HandMadeLayout(Path.Combine(root, "layout"), root);
        var manifests = new Dictionary<string, byte[]>
        {
            [Main] = layout.AddImage(Main, [(MainLayer1(), TarLayerCompression.Gzip), (MainLayer2(), TarLayerCompression.Zstd), (MainLayer3(), TarLayerCompression.None)]),
            [HardlinkLower] = layout.AddImage(HardlinkLower,
            [
                (new TarLayerWriter(TarEntryFormat.Pax).Dir("base").File("base/file", "from the lower layer\n").ToArray(), TarLayerCompression.Gzip),
                (new TarLayerWriter(TarEntryFormat.Pax).Dir("base").HardLink("base/link", "base/file").ToArray(), TarLayerCompression.Gzip),
            ]),
            [DotDot] = layout.AddImage(DotDot, [(OneLayer(w => w.File("../../" + EscapeName, "escaped\n")), TarLayerCompression.Gzip)]),
            [Absolute] = layout.AddImage(Absolute, [(OneLayer(w => w.File("/etc/" + AbsoluteName, "evil\n")), TarLayerCompression.Gzip)]),
            [SymlinkEscape] = layout.AddImage(SymlinkEscape, [(OneLayer(w => w.Symlink("link", OutsideDir).File("link/pwned", "pwned\n")), TarLayerCompression.Gzip)]),
            [HardlinkEscape] = layout.AddImage(HardlinkEscape, [(OneLayer(w => w.HardLink("passwd", HardlinkEscapeTarget)), TarLayerCompression.Gzip)]),
            [CapSetuid] = layout.AddImage(CapSetuid, [(CapSetuidLayer(), TarLayerCompression.Gzip)]),
        };
        Manifests = manifests;
        return layout.Dir;
    }
}

/// <summary>
/// A loopback registry (<see cref="RegistryFixture"/>, empty) holding every <see cref="TarCaseImages"/> image,
/// pushed by skopeo with --preserve-digests so the registry serves exactly the hand-made bytes (skopeo would
/// otherwise gzip the uncompressed layer). One per test class.
/// </summary>
public sealed class TarCaseFixture : IDisposable
{
    public TarCaseFixture()
    {
        Registry = new RegistryFixture(authYaml: null, pushImages: false);
        try
        {
            var layout = TarCaseImages.LayoutDir;
            foreach (var (repoTag, manifest) in TarCaseImages.Manifests)
            {
                Registry.SkopeoOk("copy", "-q", "--preserve-digests", "--dest-tls-verify=false", $"oci:{layout}:{repoTag}", Registry.DockerRef(repoTag));
                var served = Registry.InspectRaw(repoTag);
                if (served != Encoding.UTF8.GetString(manifest))
                {
                    throw new InvalidOperationException($"the registry serves another manifest for {repoTag} than the hand-made one:\n{served}");
                }
            }
        }
        catch
        {
            Registry.Dispose();
            throw;
        }
    }

    public RegistryFixture Registry { get; }

    /// <summary>"127.0.0.1:PORT/REPO:TAG".</summary>
    public string Reference(string repoTag) => Registry.Reference(repoTag);

    public void Dispose() => Registry.Dispose();
}
