using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>Facts about the host that decide parts of config.json; each is a one-file probe, cheap on the hot path.</summary>
internal static class HostFacts
{
    private const int CapSysResource = 24;

    /// <summary>
    /// A host with only the unified hierarchy: there the container gets its own cgroup namespace (Docker's
    /// default <c>--cgroupns private</c> on cgroup v2, https://docs.docker.com/reference/cli/docker/container/run/#cgroupns).
    /// </summary>
    public static bool CgroupV2Only() => File.Exists("/sys/fs/cgroup/cgroup.controllers");

    /// <summary>
    /// Whether this process holds CAP_SYS_RESOURCE, without which setrlimit(2) cannot raise a hard limit: the
    /// container's init inherits our limits and our capabilities when it applies process.rlimits.
    /// </summary>
    public static bool CanRaiseHardLimits()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                {
                    return ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var caps)
                        && (caps & (1UL << CapSysResource)) != 0;
                }
            }
        }
        catch (IOException)
        {
        }

        return false;
    }

    public static string Hostname()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/hostname").Trim();
        }
        catch (IOException)
        {
            return Environment.MachineName;
        }
    }
}
