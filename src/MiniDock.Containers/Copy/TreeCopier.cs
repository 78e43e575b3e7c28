using Microsoft.Win32.SafeHandles;
using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Copy;

/// <summary>
/// Copies one node (recursively for a directory) from a name in one directory fd to a name in another, the way
/// Docker's tar stream does for <c>cp</c>: regular files, directories, symlinks (as links, never followed), device
/// nodes and fifos, with mode and mtime, and the owner chosen by <see cref="Owner"/>. Sockets are skipped (a tar
/// cannot carry them). Every open is by one name relative to a parent fd with O_NOFOLLOW, so a symlink in either
/// tree (a container's, planted on purpose) can never make a read or a write happen elsewhere.
/// </summary>
internal static class TreeCopier
{
    private const ulong Below = Resolve.InRoot | Resolve.NoMagicLinks;
    private const int CopyBuffer = 128 * 1024;

    /// <summary>Who owns what is written: null keeps the source's uid/gid; otherwise that uid/gid.</summary>
    public readonly record struct Owner(uint? Uid, uint? Gid)
    {
        public static Owner Preserve => new(null, null);

        public static Owner Root => new(0, 0);
    }

    /// <summary>
    /// Copies <paramref name="srcName"/> in <paramref name="srcDir"/> to <paramref name="dstName"/> in
    /// <paramref name="dstDir"/>. Like Docker's untar with NoOverwriteDirNonDir (what <c>docker cp</c> uses), a
    /// directory merges into an existing directory, a non-directory replaces an existing non-directory, and a
    /// directory/non-directory clash is an error.
    /// </summary>
    public static void Copy(int srcDir, string srcName, StatInfo st, int dstDir, string dstName, string shownDst, Owner owner)
    {
        var existing = FsAt.LStatAt(dstDir, dstName);
        if (st.IsDir)
        {
            if (existing is { IsDir: false })
            {
                throw new CopyException($"cannot overwrite non-directory \"{shownDst}\" with directory \"{srcName}\"");
            }

            if (existing is null)
            {
                Sys.Check(Libc.mkdirat(dstDir, dstName, 0x1C0 /* 0700 until its own mode is set, last */), $"mkdir {shownDst}");
            }

            var sfd = OpenDir(srcDir, srcName);
            try
            {
                var dfd = OpenDir(dstDir, dstName);
                try
                {
                    CopyChildren(sfd, dfd, shownDst, owner);
                    SetAttributes(dfd, -1, string.Empty, st, owner);
                }
                finally
                {
                    Sys.Close(dfd);
                }
            }
            finally
            {
                Sys.Close(sfd);
            }

            return;
        }

        if (existing is { } ex)
        {
            if (ex.IsDir)
            {
                throw new CopyException($"cannot overwrite directory \"{shownDst}\" with non-directory \"{srcName}\"");
            }

            FsAt.UnlinkAt(dstDir, dstName, 0);
        }

        switch (st.Type)
        {
            case StatMode.IfReg:
                CopyFile(srcDir, srcName, dstDir, dstName, st, owner);
                break;

            case 0xA000: // symlink: the link itself, target verbatim (it is resolved in the container's root later)
                {
                    var target = Sys.ReadLink($"{SecureJoin.FdPath(srcDir)}/{srcName}");
                    Sys.Check(Libc.symlinkat(target, dstDir, dstName), $"symlink {shownDst}");
                    SetAttributes(-1, dstDir, dstName, st, owner);
                    break;
                }

            case StatMode.IfChr or StatMode.IfBlk or StatMode.IfIfo:
                Sys.Check(Libc.mknodat(dstDir, dstName, st.Type | (st.Mode & 0xFFF), st.Rdev), $"mknod {shownDst}");
                SetAttributes(-1, dstDir, dstName, st, owner);
                break;

            default:
                break; // a socket: nothing a copy could recreate
        }
    }

    /// <summary>Copies every entry of <paramref name="srcDirFd"/> into <paramref name="dstDirFd"/> (merging), leaving the destination directory's own attributes alone.</summary>
    public static void CopyChildren(int srcDirFd, int dstDirFd, string shownDst, Owner owner)
    {
        // Listed through our own fd (the magic link is only a name for it), then reached by name relative to it.
        foreach (var entry in Directory.EnumerateFileSystemEntries(SecureJoin.FdPath(srcDirFd)))
        {
            var name = Path.GetFileName(entry);
            if (FsAt.LStatAt(srcDirFd, name) is not { } st)
            {
                if (name.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    throw new CopyException($"cannot copy \"{name}\" in \"{shownDst}\": its name is not valid UTF-8");
                }

                continue; // removed while we copied
            }

            Copy(srcDirFd, name, st, dstDirFd, name, shownDst == "/" ? "/" + name : shownDst + "/" + name, owner);
        }
    }

    /// <summary>Opens a directory by one name for reading (O_NOFOLLOW: a symlink there is an error, not a detour).</summary>
    public static int OpenDir(int parentFd, string name)
        => Sys.OpenAt2(parentFd, name, OpenFlags.RdOnly | OpenFlags.Directory | (name == "." ? 0 : OpenFlags.NoFollow), 0, Below);

    private static void CopyFile(int srcDir, string srcName, int dstDir, string dstName, StatInfo st, Owner owner)
    {
        var sfd = Sys.OpenAt2(srcDir, srcName, OpenFlags.RdOnly | OpenFlags.NoFollow, 0, Below);
        using var src = new FileStream(new SafeFileHandle(sfd, ownsHandle: true), FileAccess.Read, bufferSize: 0);

        // O_EXCL|O_NOFOLLOW: the name was just unlinked, so this creates a new inode or fails; it never opens
        // (and writes through) a symlink that raced in.
        var dfd = Sys.OpenAt2(dstDir, dstName, OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Excl | OpenFlags.NoFollow, 0x180, Below);
        using var dst = new FileStream(new SafeFileHandle(dfd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
        src.CopyTo(dst, CopyBuffer);
        SetAttributes(dfd, -1, string.Empty, st, owner);
    }

    /// <summary>
    /// Owner, then mode, then times: chown(2) clears setuid/setgid, so the mode must come after it, and writing
    /// (children, data) changes mtime, so times come last. Through <paramref name="fd"/> when there is one,
    /// otherwise by name in <paramref name="dirFd"/> without following it (symlinks, device nodes, fifos).
    /// </summary>
    private static void SetAttributes(int fd, int dirFd, string name, StatInfo st, Owner owner)
    {
        var uid = owner.Uid ?? st.Uid;
        var gid = owner.Gid ?? st.Gid;
        var mode = st.Mode & 0xFFF;
        if (fd >= 0)
        {
            Sys.Check(Libc.fchown(fd, uid, gid), "chown");
            Sys.Check(Libc.fchmod(fd, mode), "chmod");
            FsAt.SetTimesAt(fd, string.Empty, st.MtimeSec, st.MtimeNsec, noFollow: false);
            return;
        }

        Sys.Check(Libc.fchownat(dirFd, name, uid, gid, Consts.AtSymlinkNoFollow), $"lchown {name}");
        if (!st.IsSymlink)
        {
            FsAt.ChmodAt(dirFd, name, mode);
        }

        FsAt.SetTimesAt(dirFd, name, st.MtimeSec, st.MtimeNsec, noFollow: true);
    }
}
