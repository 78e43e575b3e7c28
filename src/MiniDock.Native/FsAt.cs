namespace MiniDock.Native;

/// <summary>The lstat(2) fields the layer extractor and its tests need.</summary>
public readonly record struct StatInfo(ulong Ino, ulong Nlink, uint Mode, uint Uid, uint Gid, ulong Rdev, long Size, long MtimeSec, long MtimeNsec)
{
    /// <summary>S_IFMT part of <see cref="Mode"/>.</summary>
    public uint Type => Mode & 0xF000;

    public bool IsDir => Type == 0x4000;

    public bool IsSymlink => Type == 0xA000;

    /// <summary>major(3) as glibc computes it.</summary>
    public uint Major => (uint)(((Rdev >> 32) & 0xfffff000) | ((Rdev >> 8) & 0xfff));

    /// <summary>minor(3) as glibc computes it.</summary>
    public uint Minor => (uint)(((Rdev >> 12) & 0xffffff00) | (Rdev & 0xff));
}

/// <summary>
/// *at(2) calls relative to a directory fd, for extracting layers without ever resolving a path from "/":
/// every call names one component inside a parent fd obtained with openat2(RESOLVE_IN_ROOT), so a
/// symlink inside the tree cannot redirect the write (the CVE-2018-15664 / zip-slip class).
/// They go through raw syscall(2) (x86_64 numbers) so that no new libc symbol is needed
/// (glibc &lt; 2.33 exports no fstatat). Failures throw <see cref="SysException"/>.
/// </summary>
public static unsafe class FsAt
{
    private const long NewFstatat = 262;
    private const long Unlinkat = 263;
    private const long Linkat = 265;
    private const long Fchmodat = 268;
    private const long Utimensat = 280;
    private const long Lsetxattr = 189;
    private const long Fsetxattr = 190;
    private const long Lgetxattr = 192;

    /// <summary>AT_REMOVEDIR for unlinkat(2).</summary>
    public const int AtRemoveDir = 0x200;

    /// <summary>fstatat(2) with AT_SYMLINK_NOFOLLOW; null when the name does not exist (ENOENT/ENOTDIR).</summary>
    public static StatInfo? LStatAt(int dirfd, string name)
    {
        var buf = stackalloc byte[256];
        fixed (byte* p = Sys.Utf8Z(name))
        {
            var rc = Libc.syscall(NewFstatat, dirfd, (nint)p, (nint)buf, Consts.AtSymlinkNoFollow | (name.Length == 0 ? Consts.AtEmptyPath : 0), 0, 0);
            if (rc < 0)
            {
                var e = Sys.Errno;
                if (e == Consts.ENoEnt || e == Consts.ENotDir)
                {
                    return null;
                }

                throw new SysException($"fstatat {name}", e);
            }
        }

        return new StatInfo(
            *(ulong*)(buf + 8), *(ulong*)(buf + 16), *(uint*)(buf + 24), *(uint*)(buf + 28), *(uint*)(buf + 32), *(ulong*)(buf + 40),
            *(long*)(buf + 48), *(long*)(buf + 88), *(long*)(buf + 96));
    }

    /// <summary>lstat(2) of an absolute path (tests and diagnostics).</summary>
    public static StatInfo? LStat(string path) => LStatAt(Consts.AtFdCwd, path);

    /// <summary>unlinkat(2), checked; <paramref name="flags"/> may be <see cref="AtRemoveDir"/>.</summary>
    public static void UnlinkAt(int dirfd, string name, int flags)
    {
        fixed (byte* p = Sys.Utf8Z(name))
        {
            Sys.Check(Libc.syscall(Unlinkat, dirfd, (nint)p, flags, 0, 0, 0), $"unlinkat {name}");
        }
    }

    /// <summary>linkat(2) without AT_SYMLINK_FOLLOW: a hardlink to a symlink links the symlink itself.</summary>
    public static void LinkAt(int oldDirfd, string oldName, int newDirfd, string newName)
    {
        fixed (byte* a = Sys.Utf8Z(oldName), b = Sys.Utf8Z(newName))
        {
            Sys.Check(Libc.syscall(Linkat, oldDirfd, (nint)a, newDirfd, (nint)b, 0, 0), $"linkat {oldName} -> {newName}");
        }
    }

    /// <summary>fchmodat(2) (flags are not supported by the raw syscall: never call it on a symlink).</summary>
    public static void ChmodAt(int dirfd, string name, uint mode)
    {
        fixed (byte* p = Sys.Utf8Z(name))
        {
            Sys.Check(Libc.syscall(Fchmodat, dirfd, (nint)p, (nint)mode, 0, 0, 0), $"fchmodat {name}");
        }
    }

    /// <summary>utimensat(2) setting atime and mtime; an empty <paramref name="name"/> means the fd itself.</summary>
    public static void SetTimesAt(int dirfd, string name, long sec, long nsec, bool noFollow)
    {
        var ts = stackalloc long[4];
        ts[0] = sec;
        ts[1] = nsec;
        ts[2] = sec;
        ts[3] = nsec;
        if (name.Length == 0)
        {
            Sys.Check(Libc.syscall(Utimensat, dirfd, 0, (nint)ts, 0, 0, 0), "futimens");
            return;
        }

        fixed (byte* p = Sys.Utf8Z(name))
        {
            Sys.Check(Libc.syscall(Utimensat, dirfd, (nint)p, (nint)ts, noFollow ? Consts.AtSymlinkNoFollow : 0, 0, 0), $"utimensat {name}");
        }
    }

    /// <summary>fsetxattr(2): the value is bytes, not text (security.capability is binary).</summary>
    public static void FSetXattr(int fd, string key, ReadOnlySpan<byte> value)
    {
        fixed (byte* k = Sys.Utf8Z(key), v = value)
        {
            Sys.Check(Libc.syscall(Fsetxattr, fd, (nint)k, (nint)v, value.Length, 0, 0), $"fsetxattr {key}");
        }
    }

    /// <summary>lsetxattr(2) on a path (does not follow a final symlink).</summary>
    public static void LSetXattr(string path, string key, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = Sys.Utf8Z(path), k = Sys.Utf8Z(key), v = value)
        {
            Sys.Check(Libc.syscall(Lsetxattr, (nint)p, (nint)k, (nint)v, value.Length, 0, 0), $"lsetxattr {key}");
        }
    }

    /// <summary>lgetxattr(2); null when the attribute is absent.</summary>
    public static byte[]? LGetXattr(string path, string key)
    {
        var buf = new byte[65536];
        fixed (byte* p = Sys.Utf8Z(path), k = Sys.Utf8Z(key), v = buf)
        {
            var rc = Libc.syscall(Lgetxattr, (nint)p, (nint)k, (nint)v, buf.Length, 0, 0);
            if (rc < 0)
            {
                return Sys.Errno == 61 /* ENODATA */ ? null : throw new SysException($"lgetxattr {key}", Sys.Errno);
            }

            return buf.AsSpan(0, (int)rc).ToArray();
        }
    }

    /// <summary>makedev(3) as glibc computes it.</summary>
    public static ulong MakeDev(uint major, uint minor)
        => ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    private const long Llistxattr = 195;
    private const long Lremovexattr = 198;

    /// <summary>
    /// llistxattr(2): the names of every extended attribute of <paramref name="path"/> (a final symlink is
    /// not followed). Copying a tree faithfully (the vfs snapshotter) needs the names, not just known keys.
    /// </summary>
    public static IReadOnlyList<string> LListXattr(string path)
    {
        var size = 4096;
        while (true)
        {
            var buf = new byte[size];
            fixed (byte* p = Sys.Utf8Z(path), v = buf)
            {
                var rc = Libc.syscall(Llistxattr, (nint)p, (nint)v, buf.Length, 0, 0, 0);
                if (rc < 0)
                {
                    var e = Sys.Errno;
                    if (e == 34 /* ERANGE: the list grew */ && size < (1 << 20))
                    {
                        size *= 4;
                        continue;
                    }

                    // EOPNOTSUPP: the filesystem has no xattrs at all, so there is nothing to list.
                    return e == 95 ? [] : throw new SysException($"llistxattr {path}", e);
                }

                var names = new List<string>();
                var start = 0;
                for (var i = 0; i < rc; i++)
                {
                    if (buf[i] == 0)
                    {
                        if (i > start)
                        {
                            names.Add(System.Text.Encoding.UTF8.GetString(buf, start, i - start));
                        }

                        start = i + 1;
                    }
                }

                return names;
            }
        }
    }

    /// <summary>lremovexattr(2) on a path (does not follow a final symlink); an absent attribute is not an error.</summary>
    public static void LRemoveXattr(string path, string key)
    {
        fixed (byte* p = Sys.Utf8Z(path), k = Sys.Utf8Z(key))
        {
            if (Libc.syscall(Lremovexattr, (nint)p, (nint)k, 0, 0, 0, 0) < 0 && Sys.Errno != 61 /* ENODATA */)
            {
                throw new SysException($"lremovexattr {key}", Sys.Errno);
            }
        }
    }

    private const nuint FsIocGetFlags = 0x80086601;
    private const nuint FsIocSetFlags = 0x40086602;

    /// <summary>
    /// FS_IOC_GETFLAGS (ioctl_iflags(2)): the inode flags (FS_IMMUTABLE_FL 0x10, FS_APPEND_FL 0x20, …) of the
    /// file open as <paramref name="fd"/> (not O_PATH); null where the filesystem has none. Removing a tree a
    /// container wrote needs them: chattr +i makes even root's unlink fail with EPERM.
    /// </summary>
    public static int? GetInodeFlags(int fd)
    {
        int flags;
        return Libc.ioctl(fd, FsIocGetFlags, &flags) < 0 ? null : flags;
    }

    /// <summary>FS_IOC_SETFLAGS; false when refused (clearing immutable needs CAP_LINUX_IMMUTABLE).</summary>
    public static bool SetInodeFlags(int fd, int flags) => Libc.ioctl(fd, FsIocSetFlags, &flags) == 0;

    // ---- Non-throwing *at calls for the layer extractor's hot path --------------------------------------
    // They return the result, or -errno, so that the expected failures (EEXIST when a layer replaces its own
    // entry, ENOENT for a parent not made yet) cost no exception. Names go through a stack buffer.

    private const long Openat2 = 437;
    private const long Fstat = 5;
    private const long Pread64 = 17;

    /// <summary>
    /// openat2(2) of <paramref name="name"/> relative to <paramref name="dirfd"/> (O_CLOEXEC added); the fd,
    /// or -errno. With <see cref="Resolve.InRoot"/> nothing it resolves can leave <paramref name="dirfd"/>.
    /// </summary>
    public static int TryOpenAt2(int dirfd, string name, int flags, uint mode, ulong resolve)
    {
        var how = stackalloc ulong[3];
        how[0] = (ulong)(uint)(flags | OpenFlags.CloExec);
        how[1] = mode;
        how[2] = resolve;
        Span<byte> stack = stackalloc byte[NameStack];
        var z = Z(name, stack);
        fixed (byte* p = z)
        {
            var rc = Libc.syscall(Openat2, dirfd, (nint)p, (nint)how, 24, 0, 0);
            return rc < 0 ? -Sys.Errno : (int)rc;
        }
    }

    /// <summary>mkdirat(2) (the mode goes through the umask); 0 or -errno.</summary>
    public static int TryMkdirAt(int dirfd, string name, uint mode) => Libc.mkdirat(dirfd, name, mode) < 0 ? -Sys.Errno : 0;

    /// <summary>symlinkat(2); 0 or -errno.</summary>
    public static int TrySymlinkAt(string target, int dirfd, string name) => Libc.symlinkat(target, dirfd, name) < 0 ? -Sys.Errno : 0;

    /// <summary>mknodat(2); 0 or -errno.</summary>
    public static int TryMknodAt(int dirfd, string name, uint mode, ulong dev) => Libc.mknodat(dirfd, name, mode, dev) < 0 ? -Sys.Errno : 0;

    /// <summary>linkat(2) without AT_SYMLINK_FOLLOW; 0 or -errno.</summary>
    public static int TryLinkAt(int oldDirfd, string oldName, int newDirfd, string newName)
    {
        Span<byte> s1 = stackalloc byte[NameStack];
        Span<byte> s2 = stackalloc byte[NameStack];
        var a = Z(oldName, s1);
        var b = Z(newName, s2);
        fixed (byte* pa = a, pb = b)
        {
            return Libc.syscall(Linkat, oldDirfd, (nint)pa, newDirfd, (nint)pb, 0, 0) < 0 ? -Sys.Errno : 0;
        }
    }

    /// <summary>fstat(2) of an open fd, checked.</summary>
    public static StatInfo FStat(int fd)
    {
        var buf = stackalloc byte[256];
        Sys.Check(Libc.syscall(Fstat, fd, (nint)buf, 0, 0, 0, 0), "fstat");
        return new StatInfo(
            *(ulong*)(buf + 8), *(ulong*)(buf + 16), *(uint*)(buf + 24), *(uint*)(buf + 28), *(uint*)(buf + 32), *(ulong*)(buf + 40),
            *(long*)(buf + 48), *(long*)(buf + 88), *(long*)(buf + 96));
    }

    /// <summary>pread(2), retried on EINTR, checked; 0 at end of file.</summary>
    public static int PRead(int fd, Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.syscall(Pread64, fd, (nint)p, buffer.Length, (nint)offset, 0, 0);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (Sys.Errno != Consts.EIntr)
                {
                    throw new SysException("pread", Sys.Errno);
                }
            }
        }
    }

    /// <summary>futimens(2): atime and mtime of an open (not O_PATH) fd, checked.</summary>
    public static void FutimeNs(int fd, long sec, long nsec) => SetTimesAt(fd, string.Empty, sec, nsec, noFollow: false);

    private const long Fgetxattr = 193;

    /// <summary>fgetxattr(2) asking only for the size: the value's length, or -errno (ENODATA when absent).</summary>
    public static int FGetXattrSize(int fd, string key)
    {
        Span<byte> stack = stackalloc byte[NameStack];
        var k = Z(key, stack);
        fixed (byte* pk = k)
        {
            var rc = Libc.syscall(Fgetxattr, fd, (nint)pk, 0, 0, 0, 0);
            return rc < 0 ? -Sys.Errno : (int)rc;
        }
    }

    private const int NameStack = 1024;

    /// <summary>NUL-terminated UTF-8 of <paramref name="s"/>, in <paramref name="stack"/> when it fits.</summary>
    private static ReadOnlySpan<byte> Z(string s, Span<byte> stack)
    {
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length) + 1;
        var buf = max <= stack.Length ? stack : new byte[max];
        var n = System.Text.Encoding.UTF8.GetBytes(s, buf);
        buf[n] = 0;
        return buf[..(n + 1)];
    }
}
