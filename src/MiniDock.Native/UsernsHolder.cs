using System.Buffers.Binary;
using System.Globalization;

namespace MiniDock.Native;

/// <summary>
/// A user namespace with a given id mapping, made for idmapped mounts (mount_setattr(2) MOUNT_ATTR_IDMAP takes
/// a user namespace fd). unshare(CLONE_NEWUSER) fails with EINVAL in a threaded process, so a short-lived child
/// does it: this binary started with <c>_MINIDOCK_USERNS_HOLDER</c>, which native/nsexec.c handles before .NET
/// starts. The parent (root here) writes its uid_map and gid_map, opens <c>/proc/PID/ns/user</c>, then kills and
/// reaps it; the open fd (and every idmapped mount made with it) keeps the namespace alive.
/// </summary>
public static class UsernsHolder
{
    /// <summary>The variable that turns a start of this binary into the holder (see native/nsexec.c).</summary>
    public const string Env = "_MINIDOCK_USERNS_HOLDER";

    /// <summary>
    /// An O_CLOEXEC fd of a new user namespace whose uids <c>0..uidSize-1</c> are host uids <c>hostUid..</c> and whose
    /// gids <c>0..gidSize-1</c> are host gids <c>hostGid..</c>. Throws <see cref="SysException"/> where it cannot be made.
    /// </summary>
    public static int Create(uint hostUid, uint uidSize, uint hostGid, uint gidSize)
    {
        if (!NsExec.Available)
        {
            throw new SysException("user namespace holder (this build has no nsexec constructor)", Consts.EInval);
        }

        var (ours, theirs) = Sys.SocketPair();
        var pid = -1;
        try
        {
            pid = Spawn.Start(new SpawnRequest
            {
                // The host's binary itself, not ExeGuard's /proc/self/fd/N: CloseFrom would close that fd before execve
                // resolves it, and the holder runs no container code (it only unshares and waits).
                Path = Sys.ReadLink("/proc/self/exe"),
                Args = ["minidock-userns"],
                Env = [$"{Env}=3"],
                Fds = [(3, theirs)],
                CloseFrom = 4,
            });
            Sys.Close(theirs);
            theirs = -1;
            Span<byte> msg = stackalloc byte[5];
            var got = 0;
            while (got < msg.Length)
            {
                var n = Sys.Read(ours, msg[got..]);
                if (n <= 0)
                {
                    throw new SysException("user namespace holder exited early", Consts.EInval);
                }

                got += n;
            }

            if (msg[0] != (byte)'U')
            {
                throw new SysException("unshare user namespace", BinaryPrimitives.ReadInt32LittleEndian(msg[1..]));
            }

            File.WriteAllText($"/proc/{pid}/uid_map", string.Create(CultureInfo.InvariantCulture, $"0 {hostUid} {uidSize}\n"));
            File.WriteAllText($"/proc/{pid}/gid_map", string.Create(CultureInfo.InvariantCulture, $"0 {hostGid} {gidSize}\n"));
            return Sys.Open($"/proc/{pid}/ns/user", OpenFlags.RdOnly);
        }
        finally
        {
            Sys.Close(theirs);
            Sys.Close(ours);
            if (pid > 0)
            {
                Libc.kill(pid, Consts.SigKill);
                Sys.WaitPid(pid, out _);
            }
        }
    }
}
