using System.Runtime.InteropServices;

namespace MiniDock.Native;

/// <summary>
/// Every libc entry point MiniDock calls, and nothing else. This is the one place with P/Invoke:
/// the rest of the code goes through <see cref="Sys"/> (errno to exceptions) or <see cref="ISyscalls"/>.
/// Raw <c>syscall(2)</c> is used where glibc wraps a call with process-wide behaviour that a
/// container runtime must avoid (setresuid/setgroups broadcast to every thread; rt_sigaction
/// refuses the signals glibc reserves).
/// </summary>
public static unsafe partial class Libc
{
    private const string C = "libc";

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    [LibraryImport(C, SetLastError = true)]
    public static partial int sethostname(byte* name, nuint len);

    [LibraryImport(C, SetLastError = true)]
    public static partial int setdomainname(byte* name, nuint len);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, uint mode);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirfd, string path, int flags, uint mode);

    [LibraryImport(C, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(C, SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport(C, SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdirat(int dirfd, string path, uint mode);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknodat(int dirfd, string path, uint mode, ulong dev);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int symlinkat(string target, int dirfd, string linkpath);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fchownat(int dirfd, string path, uint uid, uint gid, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int fchown(int fd, uint uid, uint gid);

    [LibraryImport(C, SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, uint mode);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);

    [LibraryImport(C, SetLastError = true)]
    public static partial int fchdir(int fd);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chroot(string path);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint readlink(string path, byte* buf, nuint size);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statfs(string path, byte* buf);

    [LibraryImport(C, SetLastError = true)]
    public static partial int fstatfs(int fd, byte* buf);

    [LibraryImport(C, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(C, SetLastError = true)]
    public static partial long syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport(C, SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport(C, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(C, SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(C, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(C, SetLastError = true)]
    public static partial int connect(int fd, byte* addr, uint len);

    [LibraryImport(C, SetLastError = true)]
    public static partial nint sendmsg(int fd, void* msg, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial nint recvmsg(int fd, void* msg, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int poll(void* fds, nuint nfds, int timeout);

    [LibraryImport(C, SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);

    [LibraryImport(C, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rmdir(string path);

    [LibraryImport(C, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, uint* len);

    [LibraryImport(C, SetLastError = true)]
    public static partial int dup2(int oldfd, int newfd);

    [LibraryImport(C, SetLastError = true)]
    public static partial int dup3(int oldfd, int newfd, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(C, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport(C, SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport(C, SetLastError = true)]
    public static partial int setsid();

    [LibraryImport(C, SetLastError = true)]
    public static partial int getpid();

    [LibraryImport(C)]
    public static partial uint geteuid();

    [LibraryImport(C)]
    public static partial uint umask(uint mask);

    [LibraryImport(C, SetLastError = true)]
    public static partial int prlimit(int pid, int resource, ulong* newLimit, ulong* oldLimit);

    [LibraryImport(C, SetLastError = true)]
    public static partial int unlockpt(int fd);

    [LibraryImport(C, SetLastError = true)]
    public static partial int ptsname_r(int fd, byte* buf, nuint len);

    [LibraryImport(C, SetLastError = true)]
    public static partial int execve(byte* path, byte** argv, byte** envp);

    [LibraryImport(C, SetLastError = true)]
    public static partial int tcgetattr(int fd, byte* termios);

    [LibraryImport(C, SetLastError = true)]
    public static partial int tcsetattr(int fd, int actions, byte* termios);

    [LibraryImport(C)]
    public static partial void cfmakeraw(byte* termios);

    // posix_spawn: the only safe way to start a process from a thread that unshared CLONE_NEWPID
    // (such a thread cannot clone threads, so Process.Start fails there).
    [LibraryImport(C)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(C)]
    public static partial int posix_spawn_file_actions_init(void* fa);

    [LibraryImport(C)]
    public static partial int posix_spawn_file_actions_destroy(void* fa);

    [LibraryImport(C)]
    public static partial int posix_spawn_file_actions_adddup2(void* fa, int fd, int newfd);

    [LibraryImport(C)]
    public static partial int posix_spawn_file_actions_addclose(void* fa, int fd);

    [LibraryImport(C, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addopen(void* fa, int fd, string path, int oflag, uint mode);

    [LibraryImport(C)]
    public static partial int posix_spawn_file_actions_addclosefrom_np(void* fa, int from);

    [LibraryImport(C, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int posix_spawn_file_actions_addchdir_np(void* fa, string path);

    [LibraryImport(C)]
    public static partial int posix_spawnattr_init(void* attr);

    [LibraryImport(C)]
    public static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport(C)]
    public static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport(C)]
    public static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport(C)]
    public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport(C)]
    public static partial int sigemptyset(void* set);

    [LibraryImport(C)]
    public static partial int sigfillset(void* set);
}
