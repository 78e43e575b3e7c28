using MiniDock.Native;

namespace MiniDock.Containers.Config;

/// <summary>One linux.devices entry (https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#devices).</summary>
internal sealed record OciDevice(string Path, string Type, long Major, long Minor, uint FileMode, uint Uid, uint Gid);

/// <summary>
/// What <c>--privileged</c> changes, as Docker does it (https://docs.docker.com/reference/cli/docker/container/run/#privileged,
/// moby's daemon/oci_linux.go and containerd's oci.HostDevices): every capability (<see cref="CapabilityFlags"/>), no
/// seccomp filter (<see cref="Seccomp.ContainerSeccomp"/>), no masked or read-only paths, /sys and the cgroup
/// filesystem writable, every device node of the host's /dev created in the container, and a device cgroup that
/// allows all of them. no_new_privs stays the user's choice.
/// </summary>
internal static class Privileged
{
    /// <summary>The device cgroup: everything, read, write and mknod.</summary>
    public static readonly DeviceRule[] DeviceRules = [new(true, null, null, null, "rwm")];

    /// <summary>Directories of /dev that hold no host devices a container should get (containerd's getDevices skips them).</summary>
    private static readonly HashSet<string> SkippedDirs = new(StringComparer.Ordinal) { "pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev" };

    /// <summary>/sys and cgroup mounts lose "ro" (moby clears it for /sys and, privileged meaning writable cgroups, for cgroup).</summary>
    public static List<OciMount> Mounts(IReadOnlyList<OciMount> mounts)
        => [.. mounts.Select(m => m.Destination == "/sys" || m.Type == "cgroup" ? m with { Options = [.. m.Options.Where(o => o != "ro")] } : m)];

    /// <summary>
    /// The host's character and block devices under <paramref name="dev"/>, recursively, with their modes and owners;
    /// symlinks, fifos, consoles (the runtime makes the container's own /dev/console), and the pts, shm, fd and mqueue
    /// directories are skipped, as in containerd.
    /// </summary>
    public static List<OciDevice> HostDevices(string dev = "/dev")
    {
        var list = new List<OciDevice>();
        Walk(dev, "/dev", list);
        return list;
    }

    private static void Walk(string hostDir, string containerDir, List<OciDevice> list)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(hostDir).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var path in entries)
        {
            var name = Path.GetFileName(path);
            StatInfo? st;
            try
            {
                st = FsAt.LStat(path);
            }
            catch (SysException)
            {
                continue;
            }

            if (st is not { } s)
            {
                continue;
            }

            var ctr = containerDir + "/" + name;
            if (s.IsDir)
            {
                if (!SkippedDirs.Contains(name))
                {
                    Walk(path, ctr, list);
                }

                continue;
            }

            var type = s.Type switch
            {
                0x2000 => "c", // S_IFCHR
                0x6000 => "b", // S_IFBLK
                _ => null,
            };
            if (type is null || name == "console")
            {
                continue;
            }

            list.Add(new OciDevice(ctr, type, s.Major, s.Minor, s.Mode & 0xfff, s.Uid, s.Gid));
        }
    }
}
