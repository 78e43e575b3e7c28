namespace MiniDock.Containers.Config;

/// <summary>One config.json mount (https://github.com/opencontainers/runtime-spec/blob/main/config.md#mounts).</summary>
internal sealed record OciMount(string Destination, string Type, string Source, IReadOnlyList<string> Options);

/// <summary>One linux.resources.devices rule (https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#allowed-device-list).</summary>
internal sealed record DeviceRule(bool Allow, string? Type, long? Major, long? Minor, string Access);

/// <summary>
/// What Docker puts in every container's spec unless told otherwise: moby's oci/defaults.go and
/// caps/defaults.go (https://github.com/moby/moby/blob/master/oci/defaults.go). Kept identical so that a
/// program behaves the same under MiniDock as under Docker.
/// </summary>
internal static class DockerDefaults
{
    public const string Path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Docker's (containerd's) default RLIMIT_NOFILE, soft and hard.</summary>
    public const ulong NoFile = 1048576;

    /// <summary>process.user.umask: 0022.</summary>
    public const uint Umask = 0x12;

    public static readonly string[] Capabilities =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    public static readonly string[] MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ];

    public static readonly string[] ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>Deny everything, then allow mknod of any device and use of the standard ones (null, zero, full, tty, random, urandom, console, ptmx, pts, tun).</summary>
    public static readonly DeviceRule[] Devices =
    [
        new(false, null, null, null, "rwm"),
        new(true, "c", null, null, "m"),
        new(true, "b", null, null, "m"),
        new(true, "c", 1, 3, "rwm"),
        new(true, "c", 1, 5, "rwm"),
        new(true, "c", 1, 7, "rwm"),
        new(true, "c", 1, 8, "rwm"),
        new(true, "c", 1, 9, "rwm"),
        new(true, "c", 5, 0, "rwm"),
        new(true, "c", 5, 1, "rwm"),
        new(true, "c", 5, 2, "rwm"),
        new(true, "c", 136, null, "rwm"),
        new(true, "c", 10, 200, "rwm"),
    ];

    public static readonly OciMount[] Mounts =
    [
        new("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        new("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        new("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        new("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        new("/sys/fs/cgroup", "cgroup", "cgroup", ["ro", "nosuid", "noexec", "nodev"]),
        new("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        new("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    ];

    /// <summary>Where Docker binds the init (tini) for <c>--init</c>.</summary>
    public const string InitPath = "/sbin/docker-init";
}
