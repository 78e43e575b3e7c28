namespace MiniDock.Native;

/// <summary>
/// Network namespaces that outlive their processes, as <c>ip netns</c>, podman and containerd make them: a new
/// namespace is bind-mounted onto a file before any container runs in it. CNI's plugins are given that path, and a
/// DEL after the container died still finds the veth and the addresses whose NAT rules it must remove (the bridge
/// plugin reads them from the interface: with the namespace gone, its masquerade rules would stay behind forever).
/// </summary>
public static class NetNs
{
    /// <summary>
    /// Creates a network namespace with <c>lo</c> up and pins it at <paramref name="path"/> (created as an empty
    /// file). The caller's own namespace is not changed: a thread of its own unshares, pins and ends there.
    /// </summary>
    public static void CreatePinned(string path)
    {
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                var fd = Sys.Open(path, OpenFlags.WrOnly | OpenFlags.Creat, 0x1a4 /* 0644 */);
                Sys.Close(fd);
                var home = Sys.Open("/proc/thread-self/ns/net", OpenFlags.RdOnly);
                try
                {
                    Sys.Unshare(Clone.NewNet);
                    Sys.Mount("/proc/thread-self/ns/net", path, null, MountFlags.Bind, null);
                    NetLink.LoopbackUp();
                }
                finally
                {
                    // Back home before the thread returns to the runtime (it may not end at once).
                    Sys.Setns(home, Clone.NewNet, "net");
                    Sys.Close(home);
                }
            }
            catch (SysException e)
            {
                error = e;
            }
        }, 256 * 1024);
        t.Start();
        t.Join();
        if (error is not null)
        {
            Unpin(path);
            throw error;
        }
    }

    /// <summary>Unmounts and removes a pinned namespace file; nothing there is fine (teardown is repeatable).</summary>
    public static void Unpin(string path)
    {
        // EINVAL: not a mount point (never pinned, or unpinned before); ENOENT: no file.
        Libc.umount2(path, MountFlags.MntDetach);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>
    /// The calling thread's network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): unlike its inode number, never
    /// reused by a later namespace. 0 where the kernel has none.
    /// </summary>
    public static unsafe ulong Cookie()
    {
        var s = Libc.socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | Consts.SockCloExec, 0);
        if (s < 0)
        {
            return 0;
        }

        ulong cookie = 0;
        uint len = sizeof(ulong);
        var rc = Libc.getsockopt(s, 1 /* SOL_SOCKET */, 71 /* SO_NETNS_COOKIE */, &cookie, &len);
        Sys.Close(s);
        return rc == 0 ? cookie : 0;
    }

    /// <summary>True when <paramref name="path"/> is a pinned network namespace (an nsfs mount).</summary>
    public static bool IsPinned(string path) => File.Exists(path) && Sys.StatfsType(path) == 0x6e736673 /* NSFS_MAGIC */;
}
