using System.Runtime.InteropServices;

namespace MiniDock.Native;

/// <summary>
/// The managed side of native/nsexec.c, the ELF constructor that creates and joins user
/// namespaces before the .NET runtime starts threads (unshare(CLONE_NEWUSER) and setns into a user
/// namespace fail with EINVAL in a threaded process: user_namespaces(7), design-notes §3). The
/// constructor is linked only into the NativeAOT executable (native/nsexec.targets); a JIT build
/// has none, and <see cref="Available"/> tells the engine so instead of letting a container start
/// without the user namespace it asked for.
/// </summary>
public static partial class NsExec
{
    /// <summary>The variable that wakes the constructor; its format is described in nsexec.c.</summary>
    public const string Env = "_MINIDOCK_NSEXEC";

    /// <summary>
    /// Set by the constructor for a child it re-executed into a pid namespace when a mount
    /// namespace was to be joined: the fd of that namespace, joined by <see cref="JoinDeferredMount"/>.
    /// </summary>
    public const string MountEnv = "_MINIDOCK_NSEXEC_MNT";

    private static int _available = -1;

    /// <summary>Whether this executable carries the constructor (resolved once: a direct P/Invoke in the AOT binary).</summary>
    public static bool Available
    {
        get
        {
            if (_available < 0)
            {
                try
                {
                    _available = minidock_nsexec_available() == 1 ? 1 : 0;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    _available = 0;
                }
            }

            return _available == 1;
        }
    }

    /// <summary>
    /// Joins the mount namespace the constructor left to us (see <see cref="MountEnv"/>): the
    /// re-exec needed the host's ELF interpreter, so it happened before. Called on the main thread,
    /// which then execs: unshare(CLONE_FS) first, as setns into a mount namespace requires.
    /// </summary>
    public static void JoinDeferredMount()
    {
        if (Environment.GetEnvironmentVariable(MountEnv) is not { } text || !int.TryParse(text, out var fd))
        {
            return;
        }

        Environment.SetEnvironmentVariable(MountEnv, null);
        Sys.Unshare(Clone.Fs);
        Sys.Setns(fd, Clone.NewNs, "mnt");
        Sys.Close(fd);
    }

    [LibraryImport("minidock_nsexec")]
    private static partial int minidock_nsexec_available();
}
