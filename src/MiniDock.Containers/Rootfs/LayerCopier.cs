using Microsoft.Win32.SafeHandles;
using MiniDock.Native;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// Copies one layer directory in overlay form onto a tree, applying overlayfs' rules as a mount would show
/// them (https://docs.kernel.org/filesystems/overlayfs.html, "whiteouts and opaque directories"), so a
/// vfs rootfs equals the overlay one:
/// <list type="bullet">
/// <item>a character device 0:0 is a whiteout: the name is deleted from what lower layers gave, and not copied;</item>
/// <item>a directory with <c>trusted.overlay.opaque=y</c> hides the lower directory's entries: it is emptied first;</item>
/// <item>a directory over a directory merges, and takes the upper one's owner, mode, xattrs and times;
/// anything else replaces what was there (a directory over a file, a file over a directory).</item>
/// </list>
/// Kept: owner, mode (setuid, setgid and sticky included), mtime (atime is set equal to it), symlink
/// targets verbatim, device nodes, fifos and sockets, every xattr but <c>trusted.overlay.*</c> (overlayfs'
/// own bookkeeping). Hardlinks within one layer stay hardlinks (the inode number is remembered for the
/// layer), as in the overlay view; files are copied byte by byte, so sparse files become dense.
/// </summary>
/// <remarks>
/// Safety: every operation names one component relative to an fd of its parent; sources are opened
/// O_NOFOLLOW, destinations O_CREAT|O_EXCL|O_NOFOLLOW after the old name was removed, device nodes are
/// created with mknod and never opened. A symlink (even one to /etc) is thus never followed or written
/// through, on either side. Owner first, then mode, then xattrs, then times: chown(2) clears setuid,
/// setgid and security.capability, and every later step would move the mtime.
/// </remarks>
internal static class LayerCopier
{
    private const uint IfSock = 0xC000;
    private const string OverlayXattrPrefix = "trusted.overlay.";
    private const ulong NoFollowAnything = Resolve.NoXdev | Resolve.NoSymlinks | Resolve.NoMagicLinks;

    /// <summary>Applies the layer open as <paramref name="srcRoot"/> onto the tree open as <paramref name="dstRoot"/> (both real directory fds).</summary>
    public static void Apply(int srcRoot, int dstRoot)
    {
        var links = new Dictionary<ulong, string>();
        CopyChildren(srcRoot, dstRoot, dstRoot, string.Empty, links);
    }

    private static void CopyChildren(int srcDir, int dstDir, int dstRoot, string rel, Dictionary<ulong, string> links)
    {
        var names = Directory.EnumerateFileSystemEntries($"/proc/self/fd/{srcDir}").Select(Path.GetFileName).ToList();
        names.Sort(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (string.IsNullOrEmpty(name) || FsAt.LStatAt(srcDir, name) is not { } st)
            {
                continue;
            }

            var childRel = rel.Length == 0 ? name : rel + "/" + name;
            if (st.Type == StatMode.IfChr && st.Rdev == 0)
            {
                TreeRemover.RemoveAt(dstDir, name); // a whiteout: the name is gone from here down
                continue;
            }

            if (st.IsDir)
            {
                CopyDirectory(srcDir, dstDir, dstRoot, name, childRel, st, links);
                continue;
            }

            if (FsAt.LStatAt(dstDir, name) is not null)
            {
                TreeRemover.RemoveAt(dstDir, name);
            }

            if (st.Nlink > 1 && !st.IsDir && links.TryGetValue(st.Ino, out var first))
            {
                // The same inode under another name of this layer: link to the copy already made.
                FsAt.LinkAt(dstRoot, first, dstDir, name);
                continue;
            }

            CopyNode(srcDir, dstDir, name, childRel, st);
            if (st.Nlink > 1)
            {
                links[st.Ino] = childRel;
            }
        }
    }

    private static void CopyDirectory(int srcDir, int dstDir, int dstRoot, string name, string rel, StatInfo st, Dictionary<ulong, string> links)
    {
        var existing = FsAt.LStatAt(dstDir, name);
        var opaque = FsAt.LGetXattr(SrcPath(srcDir, name), OverlayXattrPrefix + "opaque") is [(byte)'y'];
        if (existing is { IsDir: true })
        {
            if (opaque)
            {
                TreeRemover.EmptyDirectory(dstDir, name);
            }
        }
        else
        {
            if (existing is not null)
            {
                TreeRemover.RemoveAt(dstDir, name);
            }

            Sys.Check(Libc.mkdirat(dstDir, name, 0x1C0), $"mkdir {rel}");
        }

        var s = Sys.OpenAt(srcDir, name, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow);
        try
        {
            var d = Sys.OpenAt2(dstDir, name, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, NoFollowAnything);
            try
            {
                CopyChildren(s, d, dstRoot, rel, links);
                // Last: creating and deleting children moved the directory's mtime.
                SetAttributes(srcDir, name, st, dstDir, name, d, replaceXattrs: existing is { IsDir: true });
            }
            finally
            {
                Sys.Close(d);
            }
        }
        finally
        {
            Sys.Close(s);
        }
    }

    /// <summary>A new non-directory <paramref name="name"/> in <paramref name="dstDir"/> (nothing is there any more).</summary>
    private static void CopyNode(int srcDir, int dstDir, string name, string rel, StatInfo st)
    {
        var perm = st.Mode & 0xFFF;
        switch (st.Type)
        {
            case StatMode.IfReg:
                {
                    var inFd = Sys.OpenAt(srcDir, name, OpenFlags.RdOnly | OpenFlags.NoFollow | OpenFlags.NonBlock);
                    using var input = new FileStream(new SafeFileHandle(inFd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
                    var outFd = Sys.OpenAt(dstDir, name, OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Excl | OpenFlags.NoFollow, 0x180);
                    using var output = new FileStream(new SafeFileHandle(outFd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
                    input.CopyTo(output, 256 * 1024);
                    SetAttributes(srcDir, name, st, dstDir, name, outFd, replaceXattrs: false);
                    return;
                }

            case 0xA000:
                {
                    var target = Sys.ReadLink(SrcPath(srcDir, name));
                    Sys.Check(Libc.symlinkat(target, dstDir, name), $"symlink {rel} -> {target}");
                    SetAttributes(srcDir, name, st, dstDir, name, fd: -1, replaceXattrs: false);
                    return;
                }

            case StatMode.IfChr or StatMode.IfBlk or StatMode.IfIfo or IfSock:
                Sys.Check(Libc.mknodat(dstDir, name, st.Type | perm, st.Type is StatMode.IfChr or StatMode.IfBlk ? st.Rdev : 0), $"mknod {rel}");
                SetAttributes(srcDir, name, st, dstDir, name, fd: -1, replaceXattrs: false);
                return;

            default:
                throw new SnapshotException($"{rel}: unsupported file type 0x{st.Type:x}");
        }
    }

    /// <summary>
    /// Owner, mode, xattrs, times of the source onto the destination, through <paramref name="fd"/> when the
    /// destination is open, else by name without following it. <paramref name="replaceXattrs"/>: the
    /// destination existed (a directory merged with a lower one) and must lose the xattrs the upper lacks.
    /// </summary>
    private static void SetAttributes(int srcDir, string srcName, StatInfo st, int dstDir, string dstName, int fd, bool replaceXattrs)
    {
        var isSymlink = st.IsSymlink;
        if (fd >= 0)
        {
            Sys.Check(Libc.fchown(fd, st.Uid, st.Gid), $"chown {dstName}");
            Sys.Check(Libc.fchmod(fd, st.Mode & 0xFFF), $"chmod {dstName}");
        }
        else
        {
            Sys.Check(Libc.fchownat(dstDir, dstName, st.Uid, st.Gid, Consts.AtSymlinkNoFollow), $"lchown {dstName}");
            if (!isSymlink)
            {
                FsAt.ChmodAt(dstDir, dstName, st.Mode & 0xFFF);
            }
        }

        var srcPath = SrcPath(srcDir, srcName);
        var dstPath = $"/proc/self/fd/{dstDir}/{dstName}";
        var keys = FsAt.LListXattr(srcPath).Where(k => !k.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal)).ToList();
        if (replaceXattrs)
        {
            foreach (var old in FsAt.LListXattr(dstPath))
            {
                if (!old.StartsWith(OverlayXattrPrefix, StringComparison.Ordinal) && !keys.Contains(old, StringComparer.Ordinal))
                {
                    FsAt.LRemoveXattr(dstPath, old);
                }
            }
        }

        foreach (var key in keys)
        {
            if (FsAt.LGetXattr(srcPath, key) is not { } value)
            {
                continue;
            }

            if (fd >= 0)
            {
                FsAt.FSetXattr(fd, key, value);
            }
            else
            {
                FsAt.LSetXattr(dstPath, key, value);
            }
        }

        if (fd >= 0)
        {
            FsAt.SetTimesAt(fd, string.Empty, st.MtimeSec, st.MtimeNsec, noFollow: false);
        }
        else
        {
            FsAt.SetTimesAt(dstDir, dstName, st.MtimeSec, st.MtimeNsec, noFollow: true);
        }
    }

    /// <summary>A name for lstat-like calls that reaches the entry through its parent's fd, never following the entry itself.</summary>
    private static string SrcPath(int dirFd, string name) => $"/proc/self/fd/{dirFd}/{name}";
}
