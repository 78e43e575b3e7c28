using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Runtime.Tests.Mounts;

/// <summary>Symlinks inside a rootfs must never lead a mount target out of it (CVE-2021-30465 class).</summary>
public sealed class SecureJoinTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("securejoin").FullName;

    private string Root => Path.Combine(_dir, "rootfs");

    private string Outside => Path.Combine(_dir, "outside");

    public SecureJoinTests()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_absolute_symlink_resolves_inside_the_root()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "evil"), Outside);
        var rootFd = Sys.Open(Root, OpenFlags.Path | OpenFlags.Directory);
        try
        {
            var fd = SecureJoin.OpenOrCreate(rootFd, "/evil/sub", asFile: false);
            var resolved = Sys.ReadLink(SecureJoin.FdPath(fd));
            Sys.Close(fd);
            Assert.StartsWith(Root + "/", resolved);
            Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
            Assert.True(Directory.Exists(Path.Combine(Root, _dir.TrimStart('/'), "outside", "sub")));
        }
        finally
        {
            Sys.Close(rootFd);
        }
    }

    [Fact]
    public void Dot_dot_cannot_climb_out()
    {
        File.CreateSymbolicLink(Path.Combine(Root, "up"), "../../../../outside");
        var rootFd = Sys.Open(Root, OpenFlags.Path | OpenFlags.Directory);
        try
        {
            var fd = SecureJoin.OpenOrCreate(rootFd, "/up/file", asFile: true);
            var resolved = Sys.ReadLink(SecureJoin.FdPath(fd));
            Sys.Close(fd);
            Assert.Equal(Path.Combine(Root, "outside", "file"), resolved);
            Assert.False(File.Exists(Path.Combine(Outside, "file")));
        }
        finally
        {
            Sys.Close(rootFd);
        }
    }

    [Fact]
    public void Missing_path_gives_minus_one_without_creating_it()
    {
        var rootFd = Sys.Open(Root, OpenFlags.Path | OpenFlags.Directory);
        try
        {
            Assert.Equal(-1, SecureJoin.TryOpen(rootFd, "/nope/deeper"));
            Assert.False(Directory.Exists(Path.Combine(Root, "nope")));
        }
        finally
        {
            Sys.Close(rootFd);
        }
    }
}
