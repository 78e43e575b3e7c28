using System.Runtime.InteropServices;
using System.Text;

namespace MiniDock.Native;

/// <summary>
/// Thin, checked wrappers over <see cref="Libc"/>: each throws <see cref="SysException"/> with the
/// operation and errno, so callers read as a list of steps rather than a list of return-code checks.
/// </summary>
public static unsafe class Sys
{
    public static int Errno => Marshal.GetLastPInvokeError();

    public static int Check(int rc, string op)
    {
        if (rc < 0)
        {
            throw new SysException(op, Errno);
        }

        return rc;
    }

    public static long Check(long rc, string op)
    {
        if (rc < 0)
        {
            throw new SysException(op, Errno);
        }

        return rc;
    }

    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data)
        => Check(Libc.mount(source, target, fstype, flags, data), $"mount {source ?? "none"} on {target} ({fstype ?? "-"})");

    public static void Umount(string target, int flags) => Check(Libc.umount2(target, flags), $"umount {target}");

    public static void PivotRoot(string newRoot, string putOld)
    {
        fixed (byte* a = Utf8Z(newRoot), b = Utf8Z(putOld))
        {
            Check(Libc.syscall(SysNo.PivotRoot, (nint)a, (nint)b, 0, 0, 0, 0), $"pivot_root {newRoot}");
        }
    }

    public static void Unshare(int flags) => Check(Libc.unshare(flags), $"unshare 0x{flags:x}");

    public static void Setns(int fd, int nstype, string what) => Check(Libc.setns(fd, nstype), $"setns {what}");

    public static int Open(string path, int flags, uint mode = 0) => Check(Libc.open(path, flags | OpenFlags.CloExec, mode), $"open {path}");

    public static int OpenAt(int dirfd, string path, int flags, uint mode = 0) => Check(Libc.openat(dirfd, path, flags | OpenFlags.CloExec, mode), $"open {path}");

    /// <summary>openat2(2): resolve <paramref name="path"/> with the given RESOLVE_* flags (e.g. IN_ROOT, so symlinks cannot leave <paramref name="dirfd"/>).</summary>
    public static int OpenAt2(int dirfd, string path, int flags, uint mode, ulong resolve)
    {
        var how = stackalloc ulong[3];
        how[0] = (ulong)(uint)(flags | OpenFlags.CloExec);
        how[1] = mode;
        how[2] = resolve;
        fixed (byte* p = Utf8Z(path))
        {
            return (int)Check(Libc.syscall(SysNo.Openat2, dirfd, (nint)p, (nint)how, 24, 0, 0), $"openat2 {path}");
        }
    }

    public static void Close(int fd)
    {
        if (fd >= 0)
        {
            Libc.close(fd);
        }
    }

    public static string ReadLink(string path)
    {
        var buf = stackalloc byte[4096];
        var n = Libc.readlink(path, buf, 4096);
        if (n < 0)
        {
            throw new SysException($"readlink {path}", Errno);
        }

        return Encoding.UTF8.GetString(buf, (int)n);
    }

    public static void WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            var off = 0;
            while (off < data.Length)
            {
                var n = Libc.write(fd, p + off, (nuint)(data.Length - off));
                if (n < 0)
                {
                    if (Errno == Consts.EIntr)
                    {
                        continue;
                    }

                    throw new SysException("write", Errno);
                }

                off += (int)n;
            }
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes; 0 means EOF.</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.read(fd, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                if (Errno != Consts.EIntr)
                {
                    throw new SysException("read", Errno);
                }
            }
        }
    }

    public static void SetCloExec(int fd, bool on)
    {
        var flags = Check(Libc.fcntl(fd, Consts.FGetFd, 0), "fcntl F_GETFD");
        flags = on ? flags | Consts.FdCloExec : flags & ~Consts.FdCloExec;
        Check(Libc.fcntl(fd, Consts.FSetFd, flags), "fcntl F_SETFD");
    }

    public static (int A, int B) SocketPair()
    {
        var sv = stackalloc int[2];
        Check(Libc.socketpair(Consts.AfUnix, Consts.SockStream | Consts.SockCloExec, 0, sv), "socketpair");
        return (sv[0], sv[1]);
    }

    public static (int Read, int Write) Pipe()
    {
        var fds = stackalloc int[2];
        Check(Libc.pipe2(fds, OpenFlags.CloExec), "pipe2");
        return (fds[0], fds[1]);
    }

    public static int Gettid() => (int)Libc.syscall(SysNo.Gettid, 0, 0, 0, 0, 0, 0);

    public static int PidfdOpen(int pid) => (int)Libc.syscall(SysNo.PidfdOpen, pid, 0, 0, 0, 0, 0);

    /// <summary>Per-thread setresuid (raw syscall): glibc's wrapper would change every thread of the process.</summary>
    public static void SetResUid(uint uid) => Check(Libc.syscall(SysNo.Setresuid, (nint)uid, (nint)uid, (nint)uid, 0, 0, 0), $"setresuid {uid}");

    /// <summary>Per-thread setresgid (raw syscall).</summary>
    public static void SetResGid(uint gid) => Check(Libc.syscall(SysNo.Setresgid, (nint)gid, (nint)gid, (nint)gid, 0, 0, 0), $"setresgid {gid}");

    /// <summary>Per-thread setgroups (raw syscall).</summary>
    public static void SetGroups(IReadOnlyList<uint> gids)
    {
        var arr = stackalloc uint[Math.Max(1, gids.Count)];
        for (var i = 0; i < gids.Count; i++)
        {
            arr[i] = gids[i];
        }

        Check(Libc.syscall(SysNo.Setgroups, gids.Count, (nint)arr, 0, 0, 0, 0), "setgroups");
    }

    /// <summary>
    /// Marks every fd from <paramref name="first"/> up close-on-exec, so nothing the runtime holds
    /// reaches the container's process (CVE-2024-21626 class).
    /// </summary>
    public static void CloseRangeCloExec(int first) => Check(Libc.syscall(SysNo.CloseRange, first, unchecked((nint)uint.MaxValue), 4 /* CLOSE_RANGE_CLOEXEC */, 0, 0, 0), "close_range");

    /// <summary>
    /// Resets every catchable signal to SIG_DFL with raw rt_sigaction (glibc refuses 32 and 33),
    /// and unblocks them all: ignored signals and the mask both survive execve, and .NET ignores SIGPIPE.
    /// </summary>
    public static void ResetSignals()
    {
        var act = stackalloc ulong[4]; // handler, flags, restorer, mask (8 bytes)
        for (var sig = 1; sig <= 64; sig++)
        {
            if (sig is 9 or 19)
            {
                continue;
            }

            act[0] = 0; // SIG_DFL
            act[1] = 0;
            act[2] = 0;
            act[3] = 0;
            Libc.syscall(SysNo.RtSigaction, sig, (nint)act, 0, 8, 0, 0);
        }

        var mask = stackalloc ulong[1];
        mask[0] = 0;
        Libc.syscall(SysNo.RtSigprocmask, 2 /* SIG_SETMASK */, (nint)mask, 0, 8, 0, 0);
    }

    public static void Prctl(int option, nuint a2, nuint a3 = 0, string? what = null)
        => Check(Libc.prctl(option, a2, a3, 0, 0), what ?? $"prctl {option}");

    public static void SetRlimit(int resource, ulong soft, ulong hard, int pid = 0)
    {
        var lim = stackalloc ulong[2];
        lim[0] = soft;
        lim[1] = hard;
        Check(Libc.prlimit(pid, resource, lim, null), $"setrlimit {resource}");
    }

    public static (ulong Soft, ulong Hard) GetRlimit(int resource)
    {
        var lim = stackalloc ulong[2];
        Check(Libc.prlimit(0, resource, null, lim), $"getrlimit {resource}");
        return (lim[0], lim[1]);
    }

    public static ulong StatfsType(string path)
    {
        var buf = stackalloc byte[120];
        Check(Libc.statfs(path, buf), $"statfs {path}");
        return *(ulong*)buf;
    }

    /// <summary>Returns the mount flags (ST_* which match MS_* for the bits we need) of the fs holding <paramref name="path"/>.</summary>
    public static ulong StatfsFlags(string path)
    {
        var buf = stackalloc byte[120];
        Check(Libc.statfs(path, buf), $"statfs {path}");
        return *(ulong*)(buf + 80); // f_flags (x86_64 struct statfs)
    }

    public static byte[] Utf8Z(string s)
    {
        var n = Encoding.UTF8.GetByteCount(s);
        var b = new byte[n + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }

    /// <summary>waitpid that retries on EINTR and returns the raw status.</summary>
    public static int WaitPid(int pid, out int status, int options = 0)
    {
        int st;
        int rc;
        do
        {
            rc = Libc.waitpid(pid, &st, options);
        }
        while (rc < 0 && Errno == Consts.EIntr);

        status = rc > 0 ? st : 0;
        return rc;
    }

    /// <summary>The shell's view of a wait status: the exit code, or 128+N for a process killed by signal N.</summary>
    public static int ExitCode(int status)
    {
        var sig = status & 0x7f;
        return sig == 0 ? (status >> 8) & 0xff : 128 + sig;
    }

    /// <summary>poll(2) for readability on up to 4 fds; returns how many are ready (0 on timeout).</summary>
    public static int PollIn(ReadOnlySpan<int> fds, int timeoutMs)
    {
        var pfd = stackalloc int[8];
        var n = 0;
        foreach (var fd in fds)
        {
            if (fd >= 0 && n < 4)
            {
                pfd[2 * n] = fd;
                pfd[(2 * n) + 1] = 1; // POLLIN, revents 0
                n++;
            }
        }

        var rc = Libc.poll(pfd, (nuint)n, timeoutMs);
        return rc < 0 && Errno == Consts.EIntr ? 0 : rc;
    }

    public static void UnlinkAt(int dirfd, string name)
    {
        fixed (byte* p = Utf8Z(name))
        {
            Libc.syscall(263 /* unlinkat */, dirfd, (nint)p, 0, 0, 0, 0);
        }
    }

    public static void SetHostname(string name)
    {
        var b = Encoding.UTF8.GetBytes(name);
        fixed (byte* p = b)
        {
            Check(Libc.sethostname(p, (nuint)b.Length), "sethostname");
        }
    }

    public static void SetDomainname(string name)
    {
        var b = Encoding.UTF8.GetBytes(name);
        fixed (byte* p = b)
        {
            Check(Libc.setdomainname(p, (nuint)b.Length), "setdomainname");
        }
    }

    /// <summary>Reads one byte from a non-blocking fd: 1 = got it, 0 = EOF (no writer left), -1 = nothing yet.</summary>
    public static int TryReadByte(int fd)
    {
        byte b;
        var n = Libc.read(fd, &b, 1);
        return n > 0 ? 1 : n == 0 ? 0 : -1;
    }
}
