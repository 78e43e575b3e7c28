using MiniDock.Containers.Rootfs;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>MountTable.IsMountPoint against real tmpfs and bind mounts, escaped names included.</summary>
public sealed class MountTableTests : IDisposable
{
    private readonly Scratch _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("with\ttab")]
    [InlineData("back\\slash")]
    [InlineData("new\nline")]
    [InlineData("\\040 looks escaped")]
    public void AMountedDirectory_IsAMountPoint_WhateverItsName(string name)
    {
        var dir = _tmp.Sub(name);
        Assert.False(MountTable.IsMountPoint(dir));

        Sys.Mount("tmpfs", dir, "tmpfs", 0, "size=1m");

        Assert.True(MountTable.IsMountPoint(dir));
        Assert.True(MountTable.IsMountPoint(dir + "/"));
        Assert.False(MountTable.IsMountPoint(_tmp.Sub(name + "/child")));
        Sys.Umount(dir, 0);
        Assert.False(MountTable.IsMountPoint(dir));
    }

    [Fact]
    public void ABindMountOfTheSameFilesystem_IsAMountPoint()
    {
        var src = _tmp.Sub("src");
        var dst = _tmp.Sub("dst");

        Sys.Mount(src, dst, null, MountFlags.Bind, null);

        Assert.True(MountTable.IsMountPoint(dst));
        Assert.False(MountTable.IsMountPoint(src));
    }

    [Fact]
    public void PathsAreCanonicalised_AndMissingOnesAreNotMountPoints()
    {
        var dir = _tmp.Sub("m");
        Sys.Mount("tmpfs", dir, "tmpfs", 0, "size=1m");
        File.CreateSymbolicLink(Path.Combine(_tmp.Path, "link"), dir);

        Assert.True(MountTable.IsMountPoint(Path.Combine(_tmp.Path, "link")));
        Assert.True(MountTable.IsMountPoint(Path.Combine(_tmp.Path, "m/../m")));
        Assert.False(MountTable.IsMountPoint(Path.Combine(_tmp.Path, "missing")));
        Assert.True(MountTable.IsMountPoint("/proc"));
        Assert.True(MountTable.IsMountPoint("/"));
    }
}
