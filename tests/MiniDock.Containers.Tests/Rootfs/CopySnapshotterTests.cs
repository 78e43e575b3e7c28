using MiniDock.Containers.Rootfs;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>The vfs snapshotter: a copy that applies overlay rules must look exactly like the overlay mount.</summary>
public sealed class CopySnapshotterTests : IDisposable
{
    private readonly Scratch _tmp = new();
    private readonly CopySnapshotter _vfs = new();

    private string Container => Path.Combine(_tmp.Path, "ctr");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void ThreeLayers_GiveTheExpectedListing()
    {
        var rootfs = _vfs.Mount(Container, Layers.MakeThree(_tmp.Sub("layers")));

        Assert.Equal(Path.Combine(Container, "rootfs"), rootfs);
        Assert.True(_vfs.IsMounted(Container));
        Assert.Equal(Layers.ExpectedThree(), Listing.Shape(rootfs));
        Assert.False(Directory.Exists(Path.Combine(Container, "rootfs.tmp")));
    }

    [Fact]
    public void ThreeLayers_CopyEqualsOverlay_ModesOwnersTimesTargetsContentsXattrs()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var overlay = new OverlaySnapshotter();
        var merged = overlay.Mount(Path.Combine(_tmp.Path, "ovl"), layers);
        try
        {
            var copied = _vfs.Mount(Container, layers);

            Assert.Equal(Listing.Of(merged), Listing.Of(copied));
        }
        finally
        {
            overlay.Remove(Path.Combine(_tmp.Path, "ovl"));
        }
    }

    [Fact]
    public void HardlinksWithinALayer_StayHardlinks()
    {
        var rootfs = _vfs.Mount(Container, Layers.MakeThree(_tmp.Sub("layers")));

        var a = FsAt.LStat(Path.Combine(rootfs, "lib/hl1"))!.Value;
        var b = FsAt.LStat(Path.Combine(rootfs, "lib/hl2"))!.Value;
        Assert.Equal(a.Ino, b.Ino);
        Assert.Equal(2ul, a.Nlink);
    }

    [Fact]
    public void SpecialFiles_AreCopiedVerbatim_AndNothingIsFollowed()
    {
        var outside = _tmp.Sub("host");
        File.WriteAllText(Path.Combine(outside, "secret"), "host file");
        var l1 = Path.Combine(_tmp.Path, "l1");
        Layers.Dir(l1, "", 0x1ED);
        Layers.File(l1, "suid", "s", 0xDED /* 06755 */, 0, 50);
        Layers.Node(l1, "fifo", StatMode.IfIfo, 0x1A4, 0, 0);
        Layers.Node(l1, "tty", StatMode.IfChr, 0x1B6, 5, 0);
        Layers.Node(l1, "sda", StatMode.IfBlk, 0x1B0, 8, 0);
        Layers.Symlink(l1, "abs", Path.Combine(outside, "secret"), 3, 4);
        Layers.Symlink(l1, "dangling", "/nowhere/at/all");
        Layers.Symlink(l1, "hostdir", outside);
        Layers.Symlink(l1, "victim", Path.Combine(outside, "secret"));
        var l2 = Path.Combine(_tmp.Path, "l2");
        Layers.Dir(l2, "", 0x1ED);
        Layers.Dir(l2, "hostdir", 0x1ED); // a directory over a symlink to a host directory
        Layers.File(l2, "hostdir/planted", "must land in the rootfs", 0x1A4);
        Layers.File(l2, "victim", "must not reach the host", 0x1A4); // a file over a symlink to a host file

        var rootfs = _vfs.Mount(Container, [l1, l2]);

        Assert.Equal(0xDEDu, FsAt.LStat(Path.Combine(rootfs, "suid"))!.Value.Mode & 0xFFF);
        Assert.Equal(50u, FsAt.LStat(Path.Combine(rootfs, "suid"))!.Value.Gid);
        Assert.Equal(StatMode.IfIfo | 0x1A4, FsAt.LStat(Path.Combine(rootfs, "fifo"))!.Value.Mode);
        var tty = FsAt.LStat(Path.Combine(rootfs, "tty"))!.Value;
        Assert.Equal((StatMode.IfChr | 0x1B6, 5u, 0u), (tty.Mode, tty.Major, tty.Minor));
        var sda = FsAt.LStat(Path.Combine(rootfs, "sda"))!.Value;
        Assert.Equal((StatMode.IfBlk | 0x1B0, 8u, 0u), (sda.Mode, sda.Major, sda.Minor));
        Assert.Equal(Path.Combine(outside, "secret"), Sys.ReadLink(Path.Combine(rootfs, "abs")));
        Assert.Equal((3u, 4u), (FsAt.LStat(Path.Combine(rootfs, "abs"))!.Value.Uid, FsAt.LStat(Path.Combine(rootfs, "abs"))!.Value.Gid));
        Assert.Equal("/nowhere/at/all", Sys.ReadLink(Path.Combine(rootfs, "dangling")));
        Assert.True(FsAt.LStat(Path.Combine(rootfs, "hostdir"))!.Value.IsDir);
        Assert.True(File.Exists(Path.Combine(rootfs, "hostdir/planted")));
        Assert.Equal("must not reach the host", File.ReadAllText(Path.Combine(rootfs, "victim")));
        Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName));
        Assert.Equal("host file", File.ReadAllText(Path.Combine(outside, "secret")));
    }

    [Fact]
    public void Xattrs_ArePreserved_ButNotOverlayOnes()
    {
        var l1 = Path.Combine(_tmp.Path, "l1");
        Layers.Dir(l1, "", 0x1ED);
        Layers.File(l1, "f", "x", 0x1A4);
        FsAt.LSetXattr(Path.Combine(l1, "f"), "user.mime", "text/plain"u8);
        FsAt.LSetXattr(Path.Combine(l1, "f"), "trusted.other", [0, 1, 2, 255]);
        Layers.Dir(l1, "d", 0x1ED);
        FsAt.LSetXattr(Path.Combine(l1, "d"), "user.lower-only", "1"u8);
        FsAt.LSetXattr(Path.Combine(l1, "d"), "trusted.overlay.opaque", "y"u8);
        var l2 = Path.Combine(_tmp.Path, "l2");
        Layers.Dir(l2, "", 0x1ED);
        Layers.Dir(l2, "d", 0x1ED);
        FsAt.LSetXattr(Path.Combine(l2, "d"), "user.upper", "2"u8);

        var rootfs = _vfs.Mount(Container, [l1, l2]);

        Assert.Equal("text/plain"u8.ToArray(), FsAt.LGetXattr(Path.Combine(rootfs, "f"), "user.mime"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, FsAt.LGetXattr(Path.Combine(rootfs, "f"), "trusted.other"));
        // A directory over a directory takes the upper one's xattrs, as the overlay view does.
        Assert.Equal(["user.upper"], FsAt.LListXattr(Path.Combine(rootfs, "d")));
    }

    [Fact]
    public void ZeroLayers_GiveAnEmptyRootfs()
    {
        var rootfs = _vfs.Mount(Container, []);

        Assert.Empty(Directory.EnumerateFileSystemEntries(rootfs));
        var st = FsAt.LStat(rootfs)!.Value;
        Assert.Equal((0x1EDu, 0u, 0u), (st.Mode & 0xFFF, st.Uid, st.Gid));
    }

    [Fact]
    public void Mount_IsIdempotent_AndDoesNotCopyAgain()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var first = _vfs.Mount(Container, layers);
        File.WriteAllText(Path.Combine(first, "container-change"), "x");
        File.Delete(Path.Combine(first, "bin/sh"));

        var second = _vfs.Mount(Container, layers);

        Assert.Equal(first, second);
        Assert.True(File.Exists(Path.Combine(second, "container-change")));
        Assert.False(File.Exists(Path.Combine(second, "bin/sh")));
        _vfs.Unmount(Container); // a no-op for copies
        Assert.True(_vfs.IsMounted(Container));
    }

    [Fact]
    public void AKilledCopy_IsDoneAgain()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        // What a copy killed half-way leaves: a partial rootfs.tmp, and no rootfs.
        var tmp = Path.Combine(Container, "rootfs.tmp");
        Directory.CreateDirectory(Path.Combine(tmp, "etc"));
        File.WriteAllText(Path.Combine(tmp, "etc/half-written"), "junk");
        File.WriteAllText(Path.Combine(tmp, "bin"), "a file where a directory belongs");

        Assert.False(_vfs.IsMounted(Container));
        var rootfs = _vfs.Mount(Container, layers);

        Assert.Equal(Layers.ExpectedThree(), Listing.Shape(rootfs));
        Assert.False(Directory.Exists(tmp));
    }

    [Fact]
    public void Remove_DeletesTheCopy_EvenImmutableAndMode000Files_WithoutFollowingSymlinks()
    {
        var outside = _tmp.Sub("host");
        File.WriteAllText(Path.Combine(outside, "precious"), "keep me");
        var rootfs = _vfs.Mount(Container, Layers.MakeThree(_tmp.Sub("layers")));
        File.WriteAllText(Path.Combine(Container, "config.json"), "{}");
        File.CreateSymbolicLink(Path.Combine(rootfs, "to-host"), outside);
        Directory.CreateDirectory(Path.Combine(rootfs, "closed/inner"));
        File.SetUnixFileMode(Path.Combine(rootfs, "closed/inner"), UnixFileMode.None);
        File.SetUnixFileMode(Path.Combine(rootfs, "closed"), UnixFileMode.None);
        var locked = Path.Combine(rootfs, "etc/locked");
        File.WriteAllText(locked, "chattr +i");
        SetFlags(locked, 0x10 /* FS_IMMUTABLE_FL */);
        SetFlags(Path.Combine(rootfs, "usr/bin"), 0x20 /* FS_APPEND_FL */);
        Directory.CreateDirectory(Path.Combine(Container, "rootfs.tmp/leftover"));

        _vfs.Remove(Container);

        Assert.Equal(["config.json"], Directory.EnumerateFileSystemEntries(Container).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(outside, "precious")));
        Assert.False(_vfs.IsMounted(Container));
        _vfs.Remove(Container); // idempotent
    }

    [Fact]
    public void MissingLayer_FailsClearly_AndLeavesNoRootfs()
    {
        var e = Assert.Throws<SnapshotException>(() => _vfs.Mount(Container, [Path.Combine(_tmp.Path, "gone")]));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.False(_vfs.IsMounted(Container));
    }

    private static void SetFlags(string path, int flag)
    {
        var fd = Sys.Open(path, OpenFlags.RdOnly);
        try
        {
            Assert.True(FsAt.SetInodeFlags(fd, (FsAt.GetInodeFlags(fd) ?? 0) | flag));
            Assert.Equal(flag, FsAt.GetInodeFlags(fd)!.Value & flag);
        }
        finally
        {
            Sys.Close(fd);
        }
    }
}
