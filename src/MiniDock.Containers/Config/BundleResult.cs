namespace MiniDock.Containers.Config;

/// <summary>
/// What <see cref="BundleBuilder.Build"/> decided: the config.json bytes (already written to the bundle)
/// and the resolved process settings that <c>inspect</c>, <c>ps</c>, <c>exec</c> and <c>stop</c> reuse
/// without re-reading the image or the rootfs.
/// </summary>
public sealed class BundleResult
{
    /// <summary>config.json as written to <c>BundleDir/config.json</c>.</summary>
    public required byte[] ConfigJson { get; init; }

    public required string Hostname { get; init; }

    /// <summary>process.args, after <c>--init</c> wrapping (<c>/sbin/docker-init -- …</c>).</summary>
    public required IReadOnlyList<string> Args { get; init; }

    public required IReadOnlyList<string> Env { get; init; }

    public required string Cwd { get; init; }

    public required uint Uid { get; init; }

    public required uint Gid { get; init; }

    /// <summary>process.user.additionalGids: the primary gid first (Docker, CVE-2022-36109), then the user's groups.</summary>
    public required IReadOnlyList<uint> AdditionalGids { get; init; }

    /// <summary>The binds and volumes, in the order they are mounted (parents first).</summary>
    public required IReadOnlyList<MountPointInfo> Mounts { get; init; }

    /// <summary>The signal <c>stop</c> sends first, normalized to a <c>SIGTERM</c>-style name.</summary>
    public required string StopSignal { get; init; }

    /// <summary>Seconds <c>stop</c> waits before SIGKILL.</summary>
    public required int StopTimeout { get; init; }
}
