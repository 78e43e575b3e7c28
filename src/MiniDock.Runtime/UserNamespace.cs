using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime;

/// <summary>
/// linux.uidMappings / linux.gidMappings (config-linux.md#user-namespace-mappings) and the
/// runtime's half of the nsexec handshake (src/MiniDock.Native/native/nsexec.c): the constructor
/// creates the user namespace in the child, and this (still root in the host's namespace) writes
/// the child's uid_map and gid_map, as runc's parent does.
/// </summary>
public static class UserNamespace
{
    /// <summary>The kernel's limit on lines in one map file (user_namespaces(7), since Linux 4.15).</summary>
    public const int MaxMapLines = 340;

    /// <summary>
    /// runc's rules (libcontainer/configs/validate): a new user namespace needs both maps; maps
    /// without a user namespace are an error; joining one by path takes its maps as they are. Each
    /// range must be non-empty and not overlap another on either side (the kernel refuses it with a
    /// bare EINVAL), container root must be mapped (the init becomes uid/gid 0 in it to build the
    /// rootfs), and so must the process's user.
    /// </summary>
    public static void Validate(LinuxSpec linux, Namespaces ns, ProcessSpec? process)
    {
        var uids = linux.UidMappings ?? [];
        var gids = linux.GidMappings ?? [];
        if (!ns.Has("user"))
        {
            if (uids.Count > 0 || gids.Count > 0)
            {
                throw new RuntimeError("linux.uidMappings/gidMappings are set but linux.namespaces has no user namespace");
            }

            return;
        }

        if (!ns.NewUser)
        {
            if (uids.Count > 0 || gids.Count > 0)
            {
                throw new RuntimeError("linux.uidMappings/gidMappings must not be set when joining a user namespace by path (it has its own)");
            }

            return;
        }

        if (uids.Count == 0 || gids.Count == 0)
        {
            throw new RuntimeError("a new user namespace needs both linux.uidMappings and linux.gidMappings");
        }

        CheckRanges("uidMappings", uids);
        CheckRanges("gidMappings", gids);
        if (!Maps(uids, 0) || !Maps(gids, 0))
        {
            throw new RuntimeError("linux.uidMappings and linux.gidMappings must map container uid and gid 0 (the init sets up the container as root in its user namespace)");
        }

        if (process is { } p)
        {
            if (!Maps(uids, p.User.Uid))
            {
                throw new RuntimeError($"process.user.uid {p.User.Uid} is not mapped by linux.uidMappings");
            }

            if (!Maps(gids, p.User.Gid))
            {
                throw new RuntimeError($"process.user.gid {p.User.Gid} is not mapped by linux.gidMappings");
            }

            foreach (var g in p.User.AdditionalGids ?? [])
            {
                if (!Maps(gids, g))
                {
                    throw new RuntimeError($"process.user.additionalGids {g} is not mapped by linux.gidMappings");
                }
            }
        }
    }

    /// <summary>The text of a uid_map/gid_map: one "containerID hostID size" line per range, written in one write(2).</summary>
    public static string FormatMap(IReadOnlyList<IdMapping> maps)
    {
        var sb = new StringBuilder();
        foreach (var m in maps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{m.ContainerID} {m.HostID} {m.Size}\n");
        }

        return sb.ToString();
    }

    /// <summary>Writes /proc/PID/uid_map then gid_map (each must be a single write: the kernel allows one).</summary>
    public static void WriteMaps(int pid, LinuxSpec linux)
    {
        WriteOnce($"/proc/{pid}/uid_map", FormatMap(linux.UidMappings ?? []));
        WriteOnce($"/proc/{pid}/gid_map", FormatMap(linux.GidMappings ?? []));
    }

    /// <summary>
    /// The value of <see cref="NsExec.Env"/>: the socket's fd in the child, the namespaces to create,
    /// and child fd:type pairs to join (nsexec.c has the format).
    /// </summary>
    public static string NsexecEnv(int sockFd, int unshareFlags, IReadOnlyList<(int ChildFd, int Flag)> joins)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{NsExec.Env}={sockFd} {unshareFlags:x}");
        foreach (var (fd, flag) in joins)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {fd}:{flag:x}");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The runtime's side of nsexec.c's byte protocol: say go, write the maps when asked, and
    /// return the pid that carries on as the container's process (the spawned one, or its
    /// CLONE_PARENT child in the new pid namespace, which is then our child too).
    /// </summary>
    public static int Handshake(int sock, int spawnedPid, LinuxSpec? linux)
    {
        Sys.WriteAll(sock, "G"u8);
        Span<byte> b = stackalloc byte[4];
        while (true)
        {
            switch (ReadByte(sock))
            {
                case (byte)'U':
                    WriteMaps(spawnedPid, linux ?? throw new RuntimeError("nsexec: a user namespace without linux mappings"));
                    Sys.WriteAll(sock, "M"u8);
                    break;
                case (byte)'P':
                    for (var i = 0; i < 4; i++)
                    {
                        b[i] = (byte)(ReadByte(sock) ?? throw new RuntimeError("nsexec: short pid message"));
                    }

                    return BinaryPrimitives.ReadInt32LittleEndian(b);
                case (byte)'E':
                    throw new RuntimeError("nsexec: " + ReadToEnd(sock));
                case null:
                    throw new RuntimeError("nsexec: the container's init exited before entering its namespaces");
                case var other:
                    throw new RuntimeError($"nsexec: unexpected message 0x{other:x2}");
            }
        }
    }

    /// <summary>
    /// Opens a namespace file for the nsexec child at fd 256 or above: posix_spawn's dup2s put
    /// them at small fixed numbers in order, and a source fd among those numbers would be
    /// overwritten by an earlier dup2 before its own turn came.
    /// </summary>
    public static int OpenNsFd(string path)
    {
        var fd = Sys.Open(path, OpenFlags.RdOnly);
        try
        {
            return Sys.Check(Libc.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, 256), $"dup {path}");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    /// <summary>The host uid and gid that a process's user namespace maps its root to (from /proc/PID/uid_map and gid_map).</summary>
    public static (uint Uid, uint Gid) HostRoot(int pid)
        => (HostIdOf(0, File.ReadAllText($"/proc/{pid}/uid_map")) ?? throw new RuntimeError($"uid 0 of pid {pid}'s user namespace is not mapped"),
            HostIdOf(0, File.ReadAllText($"/proc/{pid}/gid_map")) ?? throw new RuntimeError($"gid 0 of pid {pid}'s user namespace is not mapped"));

    /// <summary>The host id of a namespace id, given the text of a uid_map or gid_map; null when unmapped.</summary>
    public static uint? HostIdOf(uint id, string mapText)
    {
        foreach (var line in mapText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && uint.TryParse(f[0], CultureInfo.InvariantCulture, out var inside) && uint.TryParse(f[1], CultureInfo.InvariantCulture, out var outside)
                && ulong.TryParse(f[2], CultureInfo.InvariantCulture, out var size) && id >= inside && id - inside < size)
            {
                return outside + (id - inside);
            }
        }

        return null;
    }

    private static bool Maps(IReadOnlyList<IdMapping> maps, uint id) => maps.Any(m => id >= m.ContainerID && id - m.ContainerID < m.Size);

    private static void CheckRanges(string name, IReadOnlyList<IdMapping> maps)
    {
        if (maps.Count > MaxMapLines)
        {
            throw new RuntimeError($"linux.{name}: {maps.Count} ranges, the kernel allows at most {MaxMapLines}");
        }

        for (var i = 0; i < maps.Count; i++)
        {
            var m = maps[i];
            if (m.Size == 0)
            {
                throw new RuntimeError($"linux.{name}[{i}]: size must be at least 1");
            }

            if ((ulong)m.ContainerID + m.Size > 1UL << 32 || (ulong)m.HostID + m.Size > 1UL << 32)
            {
                throw new RuntimeError($"linux.{name}[{i}]: range {m.ContainerID}/{m.HostID}+{m.Size} goes past the largest id");
            }

            for (var j = 0; j < i; j++)
            {
                var o = maps[j];
                if (Overlap(m.ContainerID, o.ContainerID, m.Size, o.Size) || Overlap(m.HostID, o.HostID, m.Size, o.Size))
                {
                    throw new RuntimeError($"linux.{name}[{i}] overlaps linux.{name}[{j}]");
                }
            }
        }
    }

    private static bool Overlap(uint a, uint b, uint sizeA, uint sizeB) => (ulong)a < (ulong)b + sizeB && (ulong)b < (ulong)a + sizeA;

    private static void WriteOnce(string path, string text)
    {
        var fd = Sys.Open(path, OpenFlags.WrOnly);
        try
        {
            Sys.WriteAll(fd, Encoding.ASCII.GetBytes(text));
        }
        catch (SysException e)
        {
            throw new RuntimeError($"write {path} ({text.TrimEnd().Replace('\n', ',')}): {e.Message}");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    private static byte? ReadByte(int fd)
    {
        Span<byte> one = stackalloc byte[1];
        return Sys.Read(fd, one) == 1 ? one[0] : null;
    }

    private static string ReadToEnd(int fd)
    {
        var buf = new List<byte>();
        while (ReadByte(fd) is { } c)
        {
            buf.Add(c);
        }

        return Encoding.UTF8.GetString(buf.ToArray());
    }
}
