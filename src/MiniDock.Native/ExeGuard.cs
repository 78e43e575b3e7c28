namespace MiniDock.Native;

/// <summary>
/// A read-only view of this binary for the processes that enter a container (CVE-2019-5736 class). A process
/// started from <c>/proc/self/exe</c> has the host's binary as its own exe until it execs the container's
/// program; a program that is <c>#!/proc/self/exe</c> (or that path itself) makes the kernel run our binary
/// again, inside the container, where another container process could open it through
/// <c>/proc/PID/exe</c> and write to it once it stops running (ETXTBSY only lasts that long). Processes
/// started through <see cref="Path"/> have, as their exe, a detached bind mount of the binary made read-only
/// (open_tree(2) OPEN_TREE_CLONE + mount_setattr(2) MOUNT_ATTR_RDONLY): nothing is mounted anywhere, so
/// nothing propagates to the host, and any write through it fails with EROFS. runc reaches the same end
/// with a sealed memfd copy or a read-only bind mount; this costs two syscalls and no copy.
/// </summary>
public static unsafe class ExeGuard
{
    /// <summary>The variable that turns a start of this binary into the exec shim of native/nsexec.c ("ERRFD:PATH").</summary>
    public const string ShimEnv = "_MINIDOCK_EXECSHIM";

    private static readonly Lock Gate = new();
    private static int _fd = -2;

    /// <summary>
    /// A path that executes this binary from a read-only detached mount (<c>/proc/self/fd/N</c>; the fd is
    /// close-on-exec, and is resolved by execve before it closes), or null where the kernel has no
    /// open_tree/mount_setattr (before 5.12) or refuses them; callers then fall back to /proc/self/exe.
    /// </summary>
    public static string? Path
    {
        get
        {
            lock (Gate)
            {
                if (_fd == -2)
                {
                    _fd = Open();
                }

                return _fd >= 0 ? $"/proc/self/fd/{_fd}" : null;
            }
        }
    }

    private static int Open()
    {
        fixed (byte* self = "/proc/self/exe\0"u8, empty = "\0"u8)
        {
            var fd = (int)Libc.syscall(SysNo.OpenTree, Consts.AtFdCwd, (nint)self, OpenTreeClone | OpenTreeCloexec, 0, 0, 0);
            if (fd < 0)
            {
                return -1;
            }

            // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
            var attr = stackalloc ulong[4];
            attr[0] = MountAttrRdonly;
            attr[1] = attr[2] = attr[3] = 0;
            if (Libc.syscall(SysNo.MountSetattr, fd, (nint)empty, Consts.AtEmptyPath, (nint)attr, 32, 0) < 0)
            {
                Libc.close(fd);
                return -1;
            }

            // Far above the numbers a spawn dup2s its stdio, init socket and namespace fds onto, which
            // would otherwise replace it in the child before execve resolves the path.
            // (A low RLIMIT_NOFILE refuses 1000: 64 is still above any of them but a huge --preserve-fds.)
            var high = Libc.fcntl(fd, FDupFdCloexec, HighFd);
            if (high < 0)
            {
                high = Libc.fcntl(fd, FDupFdCloexec, 64);
            }

            if (high < 0)
            {
                return fd;
            }

            Libc.close(fd);
            return high;
        }
    }

    private const int FDupFdCloexec = 1030;
    private const int HighFd = 1000;
    private const int OpenTreeClone = 1;
    private const int OpenTreeCloexec = 0x80000; // O_CLOEXEC
    private const ulong MountAttrRdonly = 0x1;
}
