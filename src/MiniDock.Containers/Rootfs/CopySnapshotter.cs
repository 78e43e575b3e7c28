using MiniDock.Native;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// The "vfs" snapshotter (Docker's vfs driver, containerd's "native" snapshotter): each container gets a
/// full copy of its image's layers in <c>containerDir/rootfs</c>, for when overlayfs cannot be mounted.
/// Slow and disk-hungry, but it needs nothing from the kernel beyond ordinary file operations. The layers
/// are in overlay form, so the copy applies overlayfs' rules itself (<see cref="LayerCopier"/>).
/// </summary>
/// <remarks>
/// The copy is made in <c>rootfs.tmp</c> and renamed to <c>rootfs</c> only when complete: a copy killed
/// half-way is never taken for a finished rootfs, and the next <see cref="Mount"/> starts it again. Calls for
/// one container are expected one at a time (the container store serializes them); two concurrent first
/// Mounts of the same container would share <c>rootfs.tmp</c>.
/// </remarks>
public sealed class CopySnapshotter : ISnapshotter
{
    private const string RootfsName = "rootfs";
    private const string TempName = "rootfs.tmp";

    public string Name => "vfs";

    public string RootfsPath(string containerDir) => Path.Combine(Path.GetFullPath(containerDir), RootfsName);

    /// <summary>Prepared once: a rootfs directory exists only after a complete copy was renamed into place.</summary>
    public bool IsMounted(string containerDir) => Directory.Exists(RootfsPath(containerDir));

    public string Mount(string containerDir, IReadOnlyList<string> lowerDirs)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerDir);
        ArgumentNullException.ThrowIfNull(lowerDirs);
        var dir = Path.GetFullPath(containerDir);
        var rootfs = RootfsPath(dir);
        if (Directory.Exists(rootfs))
        {
            return rootfs;
        }

        foreach (var lower in lowerDirs)
        {
            if (!Directory.Exists(lower))
            {
                throw new SnapshotException($"layer directory {Path.GetFullPath(lower)} does not exist");
            }
        }

        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, TempName);
        try
        {
            TreeRemover.Remove(tmp); // what a killed copy left
            Directory.CreateDirectory(tmp);
            // The root as overlayfs shows it (its upper dir's): 0755 root:root, whatever the layers say.
            Sys.Check(Libc.fchownat(Consts.AtFdCwd, tmp, 0, 0, Consts.AtSymlinkNoFollow), $"chown {tmp}");
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            var dst = Sys.Open(tmp, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow);
            try
            {
                foreach (var lower in lowerDirs)
                {
                    var src = Sys.Open(Path.GetFullPath(lower), OpenFlags.RdOnly | OpenFlags.Directory);
                    try
                    {
                        LayerCopier.Apply(src, dst);
                    }
                    finally
                    {
                        Sys.Close(src);
                    }
                }
            }
            finally
            {
                Sys.Close(dst);
            }

            Directory.Move(tmp, rootfs);
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException)
        {
            TryRemove(tmp);
            throw new SnapshotException($"copy layers into {rootfs}: {e.Message}");
        }
        catch
        {
            TryRemove(tmp);
            throw;
        }

        return rootfs;
    }

    /// <summary>Nothing is mounted: the copy is an ordinary directory.</summary>
    public void Unmount(string containerDir)
    {
    }

    public void Remove(string containerDir)
    {
        var dir = Path.GetFullPath(containerDir);
        foreach (var name in new[] { RootfsName, TempName })
        {
            try
            {
                TreeRemover.Remove(Path.Combine(dir, name));
            }
            catch (SysException e)
            {
                throw new SnapshotException($"remove {Path.Combine(dir, name)}: {e.Message}");
            }
        }
    }

    private static void TryRemove(string path)
    {
        try
        {
            TreeRemover.Remove(path);
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException)
        {
            // The next Mount removes it before copying again.
        }
    }
}
