using System.Formats.Tar;
using System.Text;
using MiniDock.Images.Unpack;
using MiniDock.Native;

namespace MiniDock.Images.Tests.Unpack;

/// <summary>
/// The extractor's shortcuts (docs/performance.md, "Unpack"): cached parent fds, chown/chmod only where the
/// kernel's defaults differ, EEXIST instead of lstat-first. Each test builds a case where a wrong shortcut
/// would leave a visibly different tree.
/// </summary>
public sealed class LayerExtractorFastPathTests : IDisposable
{
    private static readonly DateTimeOffset Mtime = new(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly TempDir _tmp = new();

    private string Layer => Path.Combine(_tmp.Path, "layer");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task SetgidParent_ChildrenKeepTheirOwnGroupAndMode()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(Dir("sg", 0x5FD /* 02775 */, 0, 50));
            w.WriteEntry(File("sg/root-group", "x", 0x1A4, 0, 0));
            w.WriteEntry(File("sg/inherited-group", "x", 0x1A4, 0, 50));
            w.WriteEntry(Dir("sg/plain", 0x1ED, 0, 0));
            w.WriteEntry(Dir("sg/setgid-too", 0x5ED /* 02755 */, 0, 50));
            w.WriteEntry(Link(TarEntryType.SymbolicLink, "sg/link", "root-group", 0, 0));
            w.WriteEntry(File("sg/plain/deeper", "x", 0x1A4, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal((0x5FDu, 50u), ModeGid("sg"));
        Assert.Equal((0x1A4u, 0u), ModeGid("sg/root-group"));
        Assert.Equal((0x1A4u, 50u), ModeGid("sg/inherited-group"));
        Assert.Equal((0x1EDu, 0u), ModeGid("sg/plain")); // no S_ISGID inherited from sg
        Assert.Equal((0x5EDu, 50u), ModeGid("sg/setgid-too"));
        Assert.Equal(0u, Stat("sg/link").Gid);
        Assert.Equal((0x1A4u, 0u), ModeGid("sg/plain/deeper"));
    }

    [Fact]
    public async Task ModesTheUmaskWouldStrip_AreKeptExactly()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("f777", "x", 0x1FF, 0, 0));
            w.WriteEntry(File("f666", "x", 0x1B6, 0, 0));
            w.WriteEntry(File("f000", "x", 0, 0, 0));
            w.WriteEntry(Dir("d777", 0x1FF, 0, 0));
            w.WriteEntry(Dir("sticky", 0x3FF /* 01777 */, 0, 0));
            var fifo = new PaxTarEntry(TarEntryType.Fifo, "fifo") { Mode = (UnixFileMode)0x1B6, ModificationTime = Mtime };
            w.WriteEntry(fifo);
        });

        await ExtractAsync(tar);

        Assert.Equal(0x1FFu, Stat("f777").Mode & 0xFFF);
        Assert.Equal(0x1B6u, Stat("f666").Mode & 0xFFF);
        Assert.Equal(0u, Stat("f000").Mode & 0xFFF);
        Assert.Equal(0x1FFu, Stat("d777").Mode & 0xFFF);
        Assert.Equal(0x3FFu, Stat("sticky").Mode & 0xFFF);
        Assert.Equal(0x1B6u, Stat("fifo").Mode & 0xFFF);
        Assert.Equal("x", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "f000")));
    }

    [Fact]
    public async Task ReadOnlyDirectory_StillGetsItsChildren_AndItsMtime()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(Dir("ro", 0x16D /* 0555 */, 0, 0));
            w.WriteEntry(File("ro/f", "f", 0x124, 0, 0));
            w.WriteEntry(File("ro/sub/g", "g", 0x124, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal(0x16Du, Stat("ro").Mode & 0xFFF);
        Assert.Equal(Mtime.ToUnixTimeSeconds(), Stat("ro").MtimeSec);
        Assert.Equal("g", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "ro/sub/g")));
    }

    [Fact]
    public async Task DirectoryReplacedBySymlink_LaterEntriesFollowTheNewNode()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(Dir("e", 0x1ED, 0, 0));
            w.WriteEntry(File("d/a", "a", 0x1A4, 0, 0)); // caches "d"
            w.WriteEntry(Link(TarEntryType.SymbolicLink, "d", "e", 0, 0)); // removes dir d
            w.WriteEntry(File("d/b", "b", 0x1A4, 0, 0)); // must land in e/, not in the removed d
        });

        await ExtractAsync(tar);

        Assert.True(Stat("d").IsSymlink);
        Assert.Equal("b", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "e/b")));
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "e/a")));
    }

    [Fact]
    public async Task DirectoryReplacedByFile_ThenByDirectory_GetsItsNewChildren()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("x/y/f", "f", 0x1A4, 0, 0)); // caches "x/y"
            w.WriteEntry(File("x/y", "now a file", 0x1A4, 0, 0));
            w.WriteEntry(File("x/other", "o", 0x1A4, 0, 0)); // caches "x" again
            w.WriteEntry(Dir("x/y", 0x1C0, 7, 8)); // the file goes, a directory comes
            w.WriteEntry(File("x/y/g", "g", 0x1A4, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal((0x1C0u, 8u), ModeGid("x/y"));
        Assert.Equal(7u, Stat("x/y").Uid);
        Assert.Equal("g", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "x/y/g")));
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "x/y/f")));
        Assert.Equal("o", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "x/other")));
    }

    [Fact]
    public async Task HardlinkOverAnExistingEntry_ReplacesIt()
    {
        var tar = Tar(w =>
        {
            w.WriteEntry(File("a", "a", 0x1A4, 0, 0));
            w.WriteEntry(File("b", "old", 0x1A4, 0, 0));
            w.WriteEntry(Link(TarEntryType.HardLink, "b", "a", 0, 0));
            w.WriteEntry(Dir("c", 0x1ED, 0, 0));
            w.WriteEntry(File("c/inner", "i", 0x1A4, 0, 0));
            w.WriteEntry(Link(TarEntryType.HardLink, "c", "a", 0, 0)); // over a whole directory
        });

        await ExtractAsync(tar);

        Assert.Equal(Stat("a").Ino, Stat("b").Ino);
        Assert.Equal(Stat("a").Ino, Stat("c").Ino);
        Assert.Equal(3ul, Stat("a").Nlink);
    }

    [Fact]
    public async Task ManyDirectoriesInterleaved_MoreThanTheCacheHolds()
    {
        const int dirs = 40;
        var tar = Tar(w =>
        {
            for (var round = 0; round < 3; round++)
            {
                for (var d = 0; d < dirs; d++)
                {
                    w.WriteEntry(File($"top/d{d}/sub/f{round}", $"{d}:{round}", 0x1A4, d, d));
                }
            }
        });

        await ExtractAsync(tar);

        for (var d = 0; d < dirs; d++)
        {
            for (var round = 0; round < 3; round++)
            {
                var rel = $"top/d{d}/sub/f{round}";
                Assert.Equal($"{d}:{round}", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, rel)));
                Assert.Equal((uint)d, Stat(rel).Uid);
            }
        }
    }

    [Fact]
    public async Task LargeFile_FromATricklingStream_IsCopiedWhole()
    {
        var data = new byte[(2 << 20) + 12345];
        new Random(7).NextBytes(data);
        var tar = Tar(w =>
        {
            var e = new PaxTarEntry(TarEntryType.RegularFile, "big") { Mode = (UnixFileMode)0x1A4, ModificationTime = Mtime, DataStream = new MemoryStream(data) };
            w.WriteEntry(e);
            w.WriteEntry(File("after", "a", 0x1A4, 0, 0));
        });

        var diffId = await new LayerExtractor().ExtractAsync(new Trickle(tar, 777), Layer, CancellationToken.None);

        Assert.Equal(data, await System.IO.File.ReadAllBytesAsync(Path.Combine(Layer, "big")));
        Assert.Equal(Mtime.ToUnixTimeSeconds(), Stat("big").MtimeSec);
        Assert.Equal("a", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "after")));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(tar)), diffId);
    }

    [Fact]
    public async Task DefaultAcl_OnADirectoryOfTheLayer_DoesNotChangeTheModesBelowIt()
    {
        // user::rwx group::--- other::--- as a default ACL would make a new 0644 file 0600 (the ACL, not the
        // umask, masks the create mode): the extractor must then chmod.
        var acl = AclXattr(7, 0, 0);
        if (!SupportsAcl())
        {
            return;
        }

        var tar = Tar(w =>
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "acl", new Dictionary<string, string> { ["SCHILY.xattr.system.posix_acl_default"] = Encoding.UTF8.GetString(acl) })
            {
                Mode = (UnixFileMode)0x1ED,
                ModificationTime = Mtime,
            });
            w.WriteEntry(File("acl/f", "f", 0x1A4, 0, 0));
            w.WriteEntry(Dir("acl/d", 0x1ED, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.NotNull(FsAt.LGetXattr(Path.Combine(Layer, "acl"), "system.posix_acl_default"));
        Assert.Equal(0x1A4u, Stat("acl/f").Mode & 0xFFF);
        Assert.Equal(0x1EDu, Stat("acl/d").Mode & 0xFFF);
    }

    [Fact]
    public async Task DefaultAcl_AboveTheLayer_DoesNotChangeItsModes()
    {
        if (!SupportsAcl())
        {
            return;
        }

        Directory.CreateDirectory(Layer);
        FsAt.LSetXattr(Layer, "system.posix_acl_default", AclXattr(7, 0, 0));
        var tar = Tar(w =>
        {
            w.WriteEntry(File("f", "f", 0x1A4, 0, 0));
            w.WriteEntry(File("sub/g", "g", 0x1ED, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal(0x1A4u, Stat("f").Mode & 0xFFF);
        Assert.Equal(0x1EDu, Stat("sub/g").Mode & 0xFFF);
    }

    [Fact]
    public async Task SyncAndAsyncForms_GiveTheSameDiffId()
    {
        var tar = Tar(w => w.WriteEntry(File("a", "1", 0x1A4, 0, 0)));

        var a = new LayerExtractor().Extract(new MemoryStream(tar), Layer, CancellationToken.None);
        var b = await new LayerExtractor().ExtractAsync(new MemoryStream(tar), Layer + "2", CancellationToken.None);

        Assert.Equal(a, b);
    }

    /// <summary>A version-2 POSIX ACL xattr with the three base entries (ids 0: ignored for them, and all bytes ASCII).</summary>
    internal static byte[] AclXattr(int user, int group, int other)
    {
        var b = new List<byte> { 2, 0, 0, 0 };
        foreach (var (tag, perm) in new[] { (1, user), (4, group), (0x20, other) })
        {
            b.AddRange([(byte)tag, 0, (byte)perm, 0, 0, 0, 0, 0]);
        }

        return [.. b];
    }

    private bool SupportsAcl()
    {
        var probe = Path.Combine(_tmp.Path, "acl-probe");
        Directory.CreateDirectory(probe);
        try
        {
            FsAt.LSetXattr(probe, "system.posix_acl_default", AclXattr(7, 0, 0));
            return true;
        }
        catch (SysException)
        {
            return false; // a file system without POSIX ACLs: nothing to test
        }
    }

    private static byte[] Tar(Action<TarWriter> write)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            write(w);
        }

        return ms.ToArray();
    }

    private static TarEntry File(string name, string content, int mode, int uid, int gid) => new PaxTarEntry(TarEntryType.RegularFile, name)
    {
        Mode = (UnixFileMode)mode,
        Uid = uid,
        Gid = gid,
        ModificationTime = Mtime,
        DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
    };

    private static TarEntry Dir(string name, int mode, int uid, int gid) => new PaxTarEntry(TarEntryType.Directory, name)
    {
        Mode = (UnixFileMode)mode,
        Uid = uid,
        Gid = gid,
        ModificationTime = Mtime,
    };

    private static TarEntry Link(TarEntryType type, string name, string target, int uid, int gid) => new PaxTarEntry(type, name)
    {
        LinkName = target,
        Uid = uid,
        Gid = gid,
        ModificationTime = Mtime,
    };

    private async Task ExtractAsync(byte[] tar)
        => await new LayerExtractor().ExtractAsync(new MemoryStream(tar), Layer, CancellationToken.None);

    private StatInfo Stat(string rel) => FsAt.LStat(Path.Combine(Layer, rel)) ?? throw new FileNotFoundException(rel);

    private (uint Mode, uint Gid) ModeGid(string rel)
    {
        var st = Stat(rel);
        return (st.Mode & 0xFFF, st.Gid);
    }

    /// <summary>Hands out at most <c>chunk</c> bytes per read, like a network stream.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }
}
