using System.Runtime.InteropServices;
using System.Text;

namespace MiniDock.Native;

/// <summary>What a spawned child gets: argv, envp, and which of the parent's fds become its fds.</summary>
public sealed class SpawnRequest
{
    public required string Path { get; init; }

    public required IReadOnlyList<string> Args { get; init; }

    public required IReadOnlyList<string> Env { get; init; }

    /// <summary>child fd ← parent fd, applied after <see cref="Opens"/>. Everything not listed keeps its own CLOEXEC flag.</summary>
    public IReadOnlyList<(int ChildFd, int ParentFd)> Fds { get; init; } = [];

    /// <summary>Files opened in the child after setsid (a pty slave here becomes the controlling terminal).</summary>
    public IReadOnlyList<(int ChildFd, string Path)> Opens { get; init; } = [];

    /// <summary>Close every fd from this one up in the child (glibc's addclosefrom_np), so no host fd leaks; -1 keeps them.</summary>
    public int CloseFrom { get; init; } = -1;

    /// <summary>Start a new session (for a terminal).</summary>
    public bool NewSession { get; init; }

    /// <summary>Reset every signal to its default and unblock all, so none leaks from .NET into the child.</summary>
    public bool DefaultSignals { get; init; } = true;
}

/// <summary>
/// posix_spawn(3) from managed code. It is the one way to start a process from a thread that has
/// unshared CLONE_NEWPID: such a thread can no longer clone threads, so Process.Start fails there
/// (see shared/design-notes.md §3). The child inherits the calling thread's namespaces and credentials.
/// </summary>
public static unsafe class Spawn
{
    public static int Start(SpawnRequest req)
    {
        var fa = NativeMemory.AllocZeroed(256);
        var attr = NativeMemory.AllocZeroed(512);
        var sigset = NativeMemory.AllocZeroed(128);
        var pathZ = Sys.Utf8Z(req.Path);
        var argv = ToCArray(req.Args);
        var envp = ToCArray(req.Env);
        try
        {
            Libc.posix_spawn_file_actions_init(fa);
            Libc.posix_spawnattr_init(attr);
            short flags = 0;
            if (req.DefaultSignals)
            {
                // Every signal, including glibc's internal 32 and 33: sigfillset leaves those out, and
                // the spawned child would then start with them ignored (design-notes §4).
                new Span<byte>(sigset, 128).Fill(0xff);
                Libc.posix_spawnattr_setsigdefault(attr, sigset);
                Libc.sigemptyset(sigset);
                Libc.posix_spawnattr_setsigmask(attr, sigset);
                flags |= Consts.PosixSpawnSetSigDef | Consts.PosixSpawnSetSigMask;
            }

            if (req.NewSession)
            {
                flags |= Consts.PosixSpawnSetSid;
            }

            Libc.posix_spawnattr_setflags(attr, flags);

            // Opens first (a pty slave opened after setsid becomes the controlling terminal), then dup2s.
            foreach (var (child, path) in req.Opens)
            {
                Libc.posix_spawn_file_actions_addopen(fa, child, path, OpenFlags.RdWr, 0);
            }

            foreach (var (child, parent) in req.Fds)
            {
                Libc.posix_spawn_file_actions_adddup2(fa, parent, child);
            }

            if (req.CloseFrom >= 0)
            {
                Libc.posix_spawn_file_actions_addclosefrom_np(fa, req.CloseFrom);
            }

            int pid;
            int rc;
            fixed (byte* p = pathZ)
            {
                rc = Libc.posix_spawn(&pid, p, fa, attr, argv, envp);
            }

            if (rc != 0)
            {
                throw new SysException($"exec {req.Path}", rc);
            }

            return pid;
        }
        finally
        {
            Libc.posix_spawn_file_actions_destroy(fa);
            Libc.posix_spawnattr_destroy(attr);
            NativeMemory.Free(fa);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            FreeCArray(argv);
            FreeCArray(envp);
        }
    }

    /// <summary>Replaces this process image. Only returns by throwing.</summary>
    public static void Exec(string path, IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        var argv = ToCArray(args);
        var envp = ToCArray(env);
        fixed (byte* p = Sys.Utf8Z(path))
        {
            Libc.execve(p, argv, envp);
        }

        var errno = Sys.Errno;
        FreeCArray(argv);
        FreeCArray(envp);
        throw new SysException($"exec {path}", errno);
    }

    public static byte** ToCArray(IReadOnlyList<string> items)
    {
        var arr = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < items.Count; i++)
        {
            var n = Encoding.UTF8.GetByteCount(items[i]);
            var b = (byte*)NativeMemory.Alloc((nuint)n + 1);
            fixed (char* c = items[i])
            {
                Encoding.UTF8.GetBytes(c, items[i].Length, b, n);
            }

            b[n] = 0;
            arr[i] = b;
        }

        return arr;
    }

    public static void FreeCArray(byte** arr)
    {
        for (var i = 0; arr[i] != null; i++)
        {
            NativeMemory.Free(arr[i]);
        }

        NativeMemory.Free(arr);
    }
}
