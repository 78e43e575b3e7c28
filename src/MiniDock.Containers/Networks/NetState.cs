using MiniDock.Native;

namespace MiniDock.Containers.Networks;

/// <summary>
/// What every MiniDock in one network namespace shares, whatever its data root: the bridges, the iptables rules,
/// ip_forward and so the IP allocations (host-local's directory). It lives in /run/minidock/net/INODE, named by the
/// namespace's inode, and its lock serializes every attach and detach in that namespace, so that a bridge is never
/// deleted while another container is being put on it.
/// </summary>
/// <remarks>
/// ip_forward: the bridge plugin turns it on (isGateway). The value found before the first bridge came up is kept
/// in <c>ip_forward</c> and written back when the last allocation in the namespace is gone, so a host that did not
/// forward before MiniDock does not forward after it.
/// </remarks>
public sealed class NetState : IDisposable
{
    private const string IpForwardPath = "/proc/sys/net/ipv4/ip_forward";
    private int _fd;

    private NetState(string dir, int fd)
    {
        Dir = dir;
        _fd = fd;
    }

    /// <summary>/run/minidock/net unless MINIDOCK_NET_STATE says otherwise (tests that need two at once).</summary>
    public static string Base => Environment.GetEnvironmentVariable("MINIDOCK_NET_STATE") is { Length: > 0 } b ? b : "/run/minidock/net";

    public string Dir { get; }

    /// <summary>host-local's dataDir: one directory per CNI network name, one file per allocated address.</summary>
    public string IpamDir => Path.Combine(Dir, "ipam");

    private string SavedIpForward => Path.Combine(Dir, "ip_forward");

    /// <summary>Takes the namespace's lock (blocking).</summary>
    public static NetState Lock()
    {
        var dir = Path.Combine(Base, NamespaceInode().ToString(System.Globalization.CultureInfo.InvariantCulture));
        while (true)
        {
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, "lock");
            var fd = Libc.open(path, OpenFlags.RdWr | OpenFlags.Creat | OpenFlags.CloExec, 0x180);
            if (fd < 0)
            {
                if (Sys.Errno == 2)
                {
                    continue; // the dir went away under us (a last detach): make it again
                }

                throw new SysException($"open {path}", Sys.Errno);
            }

            Libc.flock(fd, Consts.LockEx);

            // The last detach removes the dir while holding the lock: a lock taken on that deleted file is no lock.
            if (File.Exists(path) && FsAt.FStat(fd).Ino == Inode(path))
            {
                var state = new NetState(dir, fd);
                state.ForgetIfStale();
                return state;
            }

            Sys.Close(fd);
        }
    }

    /// <summary>
    /// Namespace inode numbers are reused: a dir left by a namespace that died with containers on it (its owner
    /// killed) would otherwise pass its allocations and its saved ip_forward to an unrelated new namespace. The
    /// namespace's cookie, which is never reused, tells them apart; a stale dir is emptied.
    /// </summary>
    private void ForgetIfStale()
    {
        var path = Path.Combine(Dir, "cookie");
        var now = NetNs.Cookie().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var kept = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        if (kept == now)
        {
            return;
        }

        if (kept is not null || Directory.Exists(IpamDir) || File.Exists(SavedIpForward))
        {
            DeleteAllButLock();
        }

        File.WriteAllText(path, now + "\n");
    }

    /// <summary>Keeps the value ip_forward has now, unless one is kept already (call before the first ADD).</summary>
    public void RememberIpForward()
    {
        if (!File.Exists(SavedIpForward))
        {
            var now = File.Exists(IpForwardPath) ? File.ReadAllText(IpForwardPath).Trim() : "0";
            File.WriteAllText(SavedIpForward + ".tmp", now + "\n");
            File.Move(SavedIpForward + ".tmp", SavedIpForward, overwrite: true);
        }
    }

    /// <summary>Addresses host-local holds for the CNI network <paramref name="cniName"/> (files named by address).</summary>
    public int Allocations(string cniName)
    {
        var dir = Path.Combine(IpamDir, cniName);
        return Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Count(f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)) : 0;
    }

    /// <summary>Forgets a CNI network's IPAM directory (its last address is released).</summary>
    public void DropIpam(string cniName)
    {
        var dir = Path.Combine(IpamDir, cniName);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// When no address is allocated in the namespace any more: ip_forward back to what it was, and the state
    /// directory removed, after <paramref name="alsoUndo"/> (still under the lock). Returns true when it did so.
    /// </summary>
    public bool ReleaseIfUnused(Action? alsoUndo = null)
    {
        if (Directory.Exists(IpamDir) && Directory.EnumerateDirectories(IpamDir).Any(d => Allocations(Path.GetFileName(d)) > 0))
        {
            return false;
        }

        if (File.Exists(SavedIpForward))
        {
            var saved = File.ReadAllText(SavedIpForward).Trim();
            if (saved is "0" or "1" && File.Exists(IpForwardPath) && File.ReadAllText(IpForwardPath).Trim() != saved)
            {
                File.WriteAllText(IpForwardPath, saved + "\n");
            }
        }

        alsoUndo?.Invoke();

        // Everything but the lock, then the lock, then the dir: a newcomer may have made a new lock file in it
        // meanwhile (it waited on the old one, or came after the unlink); then the dir is theirs and stays.
        DeleteAllButLock();

        File.Delete(Path.Combine(Dir, "lock"));
        Libc.rmdir(Dir);
        return true;
    }

    private void DeleteAllButLock()
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(Dir).Where(e => Path.GetFileName(e) != "lock"))
        {
            if (Directory.Exists(entry))
            {
                Directory.Delete(entry, recursive: true);
            }
            else
            {
                File.Delete(entry);
            }
        }
    }

    public void Dispose()
    {
        Sys.Close(_fd);
        _fd = -1;
    }

    /// <summary>The inode of this process's network namespace: the name of its shared state.</summary>
    public static ulong NamespaceInode() => Inode("/proc/self/ns/net");

    private static ulong Inode(string path)
    {
        var fd = Sys.Open(path, OpenFlags.Path);
        try
        {
            return FsAt.FStat(fd).Ino;
        }
        finally
        {
            Sys.Close(fd);
        }
    }
}
