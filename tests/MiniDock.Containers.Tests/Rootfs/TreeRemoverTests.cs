using MiniDock.Containers.Rootfs;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>Deleting trees a container wrote: no following, no crossing into mounts.</summary>
public sealed class TreeRemoverTests : IDisposable
{
    private readonly Scratch _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void SymlinksAreUnlinked_NotFollowed()
    {
        var outside = _tmp.Sub("outside");
        File.WriteAllText(Path.Combine(outside, "f"), "keep");
        var tree = _tmp.Sub("tree/a/b");
        File.CreateSymbolicLink(Path.Combine(tree, "dir-link"), outside);
        File.CreateSymbolicLink(Path.Combine(tree, "file-link"), Path.Combine(outside, "f"));
        File.CreateSymbolicLink(Path.Combine(tree, "relative"), "../../../outside");

        TreeRemover.Remove(Path.Combine(_tmp.Path, "tree"));

        Assert.False(Directory.Exists(Path.Combine(_tmp.Path, "tree")));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "f")));
    }

    [Fact]
    public void AMountInsideTheTree_IsDetached_NotEmptied()
    {
        var volume = _tmp.Sub("volume");
        File.WriteAllText(Path.Combine(volume, "data"), "precious");
        var mnt = _tmp.Sub("tree/merged/data");
        Sys.Mount(volume, mnt, null, MountFlags.Bind, null);

        TreeRemover.Remove(Path.Combine(_tmp.Path, "tree"));

        Assert.False(Directory.Exists(Path.Combine(_tmp.Path, "tree")));
        Assert.Equal("precious", File.ReadAllText(Path.Combine(volume, "data")));
        Assert.Empty(Scratch.MountsUnder(Path.Combine(_tmp.Path, "tree")));
    }

    [Fact]
    public void MissingPaths_AreNoOps()
    {
        TreeRemover.Remove(Path.Combine(_tmp.Path, "nothing"));
        TreeRemover.Remove(Path.Combine(_tmp.Path, "no/such/parent"));
    }

    [Fact]
    public void ASingleFile_OrSpecialFile_IsRemoved()
    {
        var f = Path.Combine(_tmp.Path, "fifo");
        Layers.Node(_tmp.Path, "fifo", StatMode.IfIfo, 0, 0, 0);

        TreeRemover.Remove(f);

        Assert.Null(FsAt.LStat(f));
    }
}
