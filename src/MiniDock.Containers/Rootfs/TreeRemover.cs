using MiniDock.Native;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// Deletes a directory tree that untrusted code wrote (a container's upper dir, a copied rootfs, a volume)
/// the way <c>rm -rf --one-file-system</c> would, but safely: every step is relative to an fd of the parent,
/// nothing is ever followed (a symlink to /etc is unlinked, not walked: the CVE-2018-15664 class), and a
/// directory that is a mount point is detached rather than emptied, so a bind-mounted volume left behind
/// by a crash is never wiped through the container's tree. As root, mode 000 is no obstacle; the
/// immutable and append-only inode flags (chattr +i/+a) are cleared where they block a removal.
/// </summary>
/// <remarks>
/// Names come from .NET's directory enumeration, which decodes them as UTF-8: a name that is not valid
/// UTF-8 cannot be named back, and its directory then fails to go with a clear error.
/// </remarks>
internal static class TreeRemover
{
    private const int EXDev = 18;
    private const int EAcces = 13;
    private const int FsImmutableFl = 0x10;
    private const int FsAppendFl = 0x20;
    private const ulong NoFollowAnything = Resolve.NoXdev | Resolve.NoSymlinks | Resolve.NoMagicLinks;

    /// <summary>Removes <paramref name="path"/> (of any type) if it exists; its parent directories are trusted and may be symlinks.</summary>
    public static void Remove(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parent = Path.GetDirectoryName(full);
        var name = Path.GetFileName(full);
        if (parent is null || name.Length == 0)
        {
            throw new ArgumentException($"refusing to remove '{path}'", nameof(path));
        }

        int pfd;
        try
        {
            pfd = Sys.Open(parent, OpenFlags.RdOnly | OpenFlags.Directory);
        }
        catch (SysException e) when (e.Errno is Consts.ENoEnt or Consts.ENotDir)
        {
            return;
        }

        try
        {
            RemoveAt(pfd, name);
        }
        finally
        {
            Sys.Close(pfd);
        }
    }

    /// <summary>Removes <paramref name="name"/> inside the directory <paramref name="pfd"/> (a real, not O_PATH, fd).</summary>
    public static void RemoveAt(int pfd, string name)
    {
        if (FsAt.LStatAt(pfd, name) is not { } st)
        {
            return;
        }

        if (st.IsDir)
        {
            EmptyDirectory(pfd, name);
        }

        Unlink(pfd, name, st.IsDir ? FsAt.AtRemoveDir : 0, st);
    }

    /// <summary>Removes everything inside directory <paramref name="name"/> of <paramref name="pfd"/>, keeping the directory itself.</summary>
    public static void EmptyDirectory(int pfd, string name)
    {
        var dfd = OpenChildDir(pfd, name);
        try
        {
            EmptyDirectory(dfd);
        }
        finally
        {
            Sys.Close(dfd);
        }
    }

    /// <summary>Removes everything inside the directory open as <paramref name="dfd"/>.</summary>
    public static void EmptyDirectory(int dfd)
    {
        // Read the names first: unlinking while readdir runs may skip entries.
        var children = Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dfd}").Select(Path.GetFileName).ToList();
        foreach (var child in children)
        {
            if (!string.IsNullOrEmpty(child))
            {
                RemoveAt(dfd, child);
            }
        }
    }

    /// <summary>
    /// Opens a child directory without following a symlink or crossing into another mount. A mount point
    /// (EXDEV) is detached, lazily, and then opened again: what was under it is ours to delete, what was
    /// mounted on it is not.
    /// </summary>
    private static int OpenChildDir(int pfd, string name)
    {
        const int flags = OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow;
        try
        {
            return Sys.OpenAt2(pfd, name, flags, 0, NoFollowAnything);
        }
        catch (SysException e) when (e.Errno == EXDev)
        {
            var where = $"/proc/self/fd/{pfd}/{name}";
            for (var i = 0; i < 16 && Libc.umount2(where, MountFlags.MntDetach) == 0; i++)
            {
                // Stacked mounts come off one at a time.
            }

            return Sys.OpenAt2(pfd, name, flags, 0, NoFollowAnything);
        }
    }

    private static void Unlink(int pfd, string name, int flags, StatInfo st)
    {
        try
        {
            FsAt.UnlinkAt(pfd, name, flags);
        }
        catch (SysException e) when (e.Errno is Consts.EPerm or EAcces)
        {
            // An immutable or append-only parent refuses unlink of any child; an immutable child refuses
            // its own removal. Clear both (root may: CAP_LINUX_IMMUTABLE) and try once more.
            ClearFlags(pfd);
            if (st.IsDir || st.Type == StatMode.IfReg)
            {
                var open = st.IsDir ? OpenFlags.RdOnly | OpenFlags.Directory : OpenFlags.RdOnly | OpenFlags.NonBlock;
                var rc = Libc.openat(pfd, name, open | OpenFlags.NoFollow | OpenFlags.CloExec, 0);
                if (rc >= 0)
                {
                    try
                    {
                        ClearFlags(rc);
                    }
                    finally
                    {
                        Sys.Close(rc);
                    }
                }
            }

            FsAt.UnlinkAt(pfd, name, flags);
        }
    }

    /// <summary>Clears FS_IMMUTABLE_FL and FS_APPEND_FL (ioctl_iflags(2)); filesystems without inode flags are left alone.</summary>
    private static void ClearFlags(int fd)
    {
        if (FsAt.GetInodeFlags(fd) is { } attrs && (attrs & (FsImmutableFl | FsAppendFl)) != 0)
        {
            FsAt.SetInodeFlags(fd, attrs & ~(FsImmutableFl | FsAppendFl));
        }
    }
}
