using MiniDock.Containers.Rootfs;
using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>Real overlayfs mounts of hand-made layers, as root in the private mount namespace the suite runs in.</summary>
public sealed class OverlaySnapshotterTests : IDisposable
{
    private readonly Scratch _tmp = new();
    private readonly OverlaySnapshotter _overlay = new();

    private string Container => Path.Combine(_tmp.Path, "ctr");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void ThreeLayers_MergeByOverlayRules()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));

        var merged = _overlay.Mount(Container, layers);

        Assert.Equal(Path.Combine(Container, "merged"), merged);
        Assert.True(_overlay.IsMounted(Container));
        Assert.Equal(Layers.ExpectedThree(), Listing.Shape(merged));
        Assert.Equal(FsAt.LStat(Path.Combine(merged, "lib/hl1"))!.Value.Ino, FsAt.LStat(Path.Combine(merged, "lib/hl2"))!.Value.Ino);
    }

    [Fact]
    public void Volatile_MountsWithoutSyncs_AndCanBeMountedAgain()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var overlay = new OverlaySnapshotter { Volatile = true };
        var merged = overlay.Mount(Container, layers);
        Assert.Contains("volatile", File.ReadAllLines("/proc/self/mountinfo").Single(l => l.Split(' ')[4] == merged), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(merged, "kept"), "x");

        overlay.Unmount(Container);
        Assert.True(Directory.Exists(Path.Combine(Container, "work", "work", "incompat", "volatile")), "overlayfs marks a volatile work dir");
        overlay.Mount(Container, layers);

        Assert.Equal("x", File.ReadAllText(Path.Combine(merged, "kept")));
        Assert.Equal(Layers.ExpectedThree().Count + 1, Listing.Shape(merged).Count);
    }

    [Fact]
    public void Directories_HaveDockerModes_AndTheRootIsTheUpperDir()
    {
        _overlay.Mount(Container, Layers.MakeThree(_tmp.Sub("layers")));

        Assert.Equal(0x1EDu, FsAt.LStat(Path.Combine(Container, "upper"))!.Value.Mode & 0xFFF);
        Assert.Equal(0x1C0u, FsAt.LStat(Path.Combine(Container, "work"))!.Value.Mode & 0xFFF);
        Assert.Equal(0x1EDu, FsAt.LStat(Path.Combine(Container, "merged"))!.Value.Mode & 0xFFF);
        Assert.Contains(MountInfo.Read(), m => m.MountPoint == Path.Combine(Container, "merged") && m.FsType == "overlay");
    }

    [Fact]
    public void Writes_GoToUpper_AndLayersStayUntouched()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var before = layers.Select(Listing.Of).ToList();
        var merged = _overlay.Mount(Container, layers);

        File.WriteAllText(Path.Combine(merged, "new-file"), "written in the container");
        File.AppendAllText(Path.Combine(merged, "etc/passwd"), "user:x:1000:1000\n");
        File.Delete(Path.Combine(merged, "bin/sh"));

        var upper = Path.Combine(Container, "upper");
        Assert.Equal("written in the container", File.ReadAllText(Path.Combine(upper, "new-file")));
        Assert.EndsWith("user:x:1000:1000\n", File.ReadAllText(Path.Combine(upper, "etc/passwd")), StringComparison.Ordinal);
        var whiteout = FsAt.LStat(Path.Combine(upper, "bin/sh"))!.Value;
        Assert.Equal(StatMode.IfChr, whiteout.Type);
        Assert.Equal(0ul, whiteout.Rdev);
        Assert.Equal(before, layers.Select(Listing.Of).ToList());
    }

    [Fact]
    public void Unmount_KeepsTheChanges_AndAMountAfterShowsThemAgain()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var merged = _overlay.Mount(Container, layers);
        File.WriteAllText(Path.Combine(merged, "kept"), "x");

        _overlay.Unmount(Container);

        Assert.False(_overlay.IsMounted(Container));
        Assert.False(File.Exists(Path.Combine(merged, "kept")));
        Assert.True(File.Exists(Path.Combine(Container, "upper/kept")));
        _overlay.Unmount(Container); // idempotent
        Assert.Equal("x", File.ReadAllText(Path.Combine(_overlay.Mount(Container, layers), "kept")));
    }

    [Fact]
    public void Unmount_OfABusyRootfs_DetachesIt()
    {
        var merged = _overlay.Mount(Container, Layers.MakeThree(_tmp.Sub("layers")));
        using var busy = File.OpenRead(Path.Combine(merged, "etc/passwd"));

        _overlay.Unmount(Container);

        Assert.False(_overlay.IsMounted(Container));
        Assert.Equal('r', (char)busy.ReadByte()); // the open file still works until it is closed
    }

    [Fact]
    public void Mount_IsIdempotent()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));

        var first = _overlay.Mount(Container, layers);
        File.WriteAllText(Path.Combine(first, "marker"), "1");
        var second = _overlay.Mount(Container, layers);

        Assert.Equal(first, second);
        Assert.Single(MountInfo.Read(), m => m.MountPoint == first);
        Assert.True(File.Exists(Path.Combine(second, "marker")));
    }

    [Fact]
    public void Remove_UnmountsAndDeletesWhatItMade_AndNothingElse()
    {
        var layers = Layers.MakeThree(_tmp.Sub("layers"));
        var before = layers.Select(Listing.Of).ToList();
        var merged = _overlay.Mount(Container, layers);
        File.WriteAllText(Path.Combine(Container, "config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(merged, "locked/deeper"));
        File.WriteAllText(Path.Combine(merged, "locked/deeper/f"), "x");
        File.SetUnixFileMode(Path.Combine(merged, "locked/deeper/f"), UnixFileMode.None);
        File.SetUnixFileMode(Path.Combine(merged, "locked/deeper"), UnixFileMode.None);
        var outside = _tmp.Sub("outside");
        File.WriteAllText(Path.Combine(outside, "precious"), "keep me");
        File.CreateSymbolicLink(Path.Combine(merged, "escape"), outside);

        _overlay.Remove(Container);

        Assert.False(_overlay.IsMounted(Container));
        Assert.Equal(["config.json"], Directory.EnumerateFileSystemEntries(Container).Select(Path.GetFileName));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(outside, "precious")));
        Assert.Equal(before, layers.Select(Listing.Of).ToList());
        _overlay.Remove(Container); // idempotent
        _overlay.Remove(Path.Combine(_tmp.Path, "never-made"));
    }

    [Fact]
    public void ZeroLayers_MountAnEmptyWritableRootfs()
    {
        var merged = _overlay.Mount(Container, []);

        Assert.True(_overlay.IsMounted(Container));
        Assert.Empty(Directory.EnumerateFileSystemEntries(merged));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Container, "empty-lower")));
        File.WriteAllText(Path.Combine(merged, "f"), "x");
        Assert.True(File.Exists(Path.Combine(Container, "upper/f")));

        _overlay.Remove(Container);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Container));
    }

    [Fact]
    public void ManyLongLayerPaths_OverThePageLimit_StillMount()
    {
        var parent = _tmp.Sub("layers-with-rather-long-names-" + new string('x', 100));
        var layers = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            var l = Path.Combine(parent, $"{i:D3}-{new string('l', 90)}");
            Layers.Dir(l, "", 0x1ED);
            Layers.File(l, $"f{i}", $"{i}", 0x1A4);
            Layers.File(l, "same", $"{i}", 0x1A4);
            layers.Add(l);
        }

        Assert.True(layers.Sum(l => l.Length + 1) > OverlaySnapshotter.MaxOptionBytes);

        var merged = _overlay.Mount(Container, layers);

        Assert.Equal(61, Directory.EnumerateFileSystemEntries(merged).Count());
        Assert.Equal("59", File.ReadAllText(Path.Combine(merged, "same")));
    }

    [Fact]
    public void LayerPathsWithReservedCharacters_Mount()
    {
        var a = Path.Combine(_tmp.Sub("odd:dir,with\\chars"), "base");
        Layers.Dir(a, "", 0x1ED);
        Layers.File(a, "f", "base", 0x1A4);
        var b = Path.Combine(_tmp.Path, "odd:dir,with\\chars", "top");
        Layers.Dir(b, "", 0x1ED);
        Layers.File(b, "g", "top", 0x1A4);

        var merged = _overlay.Mount(Path.Combine(_tmp.Path, "ctr:odd,one"), [a, b]);

        Assert.Equal(["f", "g"], Directory.EnumerateFileSystemEntries(merged).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(MountTable.IsMountPoint(merged));
    }

    [Fact]
    public void TwoHundredLayers_Mount_ThreeHundred_AreTooManyForOnePage()
    {
        var layers = Enumerable.Range(0, 300).Select(i => _tmp.Sub($"many/{i:D3}")).ToList();
        Layers.File(layers[199], "top", "199", 0x1A4);

        var merged = _overlay.Mount(Container, layers[..200]);
        Assert.Equal("199", File.ReadAllText(Path.Combine(merged, "top")));
        _overlay.Remove(Container);

        var e = Assert.Throws<SnapshotException>(() => _overlay.Mount(Container, layers));
        Assert.Equal("too many layers for overlayfs: 300", e.Message);
        Assert.False(_overlay.IsMounted(Container));
    }

    [Fact]
    public void MoreThanOverlayfsStackLimit_FailsClearly()
    {
        var parent = _tmp.Sub("many");
        var layers = Enumerable.Range(0, OverlaySnapshotter.MaxLayers + 1).Select(i => _tmp.Sub($"many/{i}")).ToList();

        var e = Assert.Throws<SnapshotException>(() => _overlay.Mount(Container, layers));

        Assert.Equal($"too many layers for overlayfs: {OverlaySnapshotter.MaxLayers + 1}", e.Message);
        Assert.False(_overlay.IsMounted(Container));
        Assert.True(Directory.Exists(parent));
    }

    [Fact]
    public void MissingLayer_FailsClearly()
    {
        var e = Assert.Throws<SnapshotException>(() => _overlay.Mount(Container, [Path.Combine(_tmp.Path, "gone")]));

        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
