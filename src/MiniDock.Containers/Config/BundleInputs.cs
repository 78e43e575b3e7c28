using MiniDock.Images;

namespace MiniDock.Containers.Config;

/// <summary>
/// Everything <see cref="BundleBuilder.Build"/> needs to turn an image config and the user's <c>run</c> flags
/// into an OCI bundle's config.json (https://github.com/opencontainers/image-spec/blob/main/conversion.md).
/// The rootfs must already be mounted: users, groups and the working directory are resolved in it.
/// </summary>
public sealed class BundleInputs
{
    public required ImageConfig Image { get; init; }

    public required RunOptions Options { get; init; }

    /// <summary>64 lowercase hex; its first 12 characters are the default hostname.</summary>
    public required string ContainerId { get; init; }

    /// <summary>Absolute path of the mounted rootfs; config.json's root.path is this path, verbatim.</summary>
    public required string RootPath { get; init; }

    /// <summary>Where config.json, hostname, hosts and resolv.conf are written.</summary>
    public required string BundleDir { get; init; }

    /// <summary>Volume name → host directory (created if missing). Null: named and anonymous volumes are an error.</summary>
    public Func<string, string>? NamedVolume { get; init; }

    /// <summary>
    /// Destination → anonymous volume name of a previous run of this container, so that <c>restart</c> and
    /// <c>start</c> mount the same anonymous volumes again (Docker keeps them until <c>rm -v</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string>? ExistingAnonymousVolumes { get; init; }

    /// <summary>Host path of a static tini for <c>--init</c>; null with <c>--init</c> is an error.</summary>
    public string? InitBinary { get; init; }

    public IHostLimits HostLimits { get; init; } = Config.HostLimits.Current;

    /// <summary>Where <c>-e NAME</c> and env-file <c>NAME</c> lines take their values; null: this process's environment.</summary>
    public IReadOnlyDictionary<string, string?>? CallerEnv { get; init; }

    /// <summary>linux.cgroupsPath is <c>CgroupParent/ContainerId</c>.</summary>
    /// <summary>A network namespace to join (bridge networks, <c>container:NAME</c>); null: none or host, from the options.</summary>
    public NetworkPlan? Network { get; init; }

    public string CgroupParent { get; init; } = "/minidock";

    // Host facts, overridable by tests only.

    /// <summary>The host's resolv.conf; null: /etc/resolv.conf (or systemd-resolved's upstream file).</summary>
    internal string? HostResolvConf { get; init; }

    /// <summary>The host's hosts file, copied for <c>--network host</c>; null: /etc/hosts.</summary>
    internal string? HostHostsFile { get; init; }

    /// <summary>The host's hostname, the default for <c>--network host</c>; null: gethostname.</summary>
    internal string? HostHostname { get; init; }

    /// <summary>Whether the host has only cgroup v2 (then the container gets a cgroup namespace); null: probe.</summary>
    internal bool? CgroupV2Only { get; init; }

    /// <summary>Whether this process may raise hard rlimits (CAP_SYS_RESOURCE); null: read /proc/self/status.</summary>
    internal bool? CanRaiseHardLimits { get; init; }

    /// <summary>CPUs on the host, the upper bound of <c>--cpus</c>; null: <see cref="Environment.ProcessorCount"/>.</summary>
    internal int? CpuCount { get; init; }

    /// <summary>The kernel's version for a seccomp profile's minKernel rules; null: this host's.</summary>
    internal Seccomp.KernelVersion? KernelVersion { get; init; }

    /// <summary>Where <c>--privileged</c> finds the host's devices; null: /dev.</summary>
    internal string? HostDevDir { get; init; }
}
