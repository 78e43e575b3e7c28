namespace MiniDock.Containers.Config;

/// <summary>
/// The caller's resource limits, by RLIMIT_* number (getrlimit(2)). A seam so that tests can pretend the
/// host's hard limits are low: a container's rlimit above the caller's hard limit makes setrlimit fail in
/// the container's init unless the caller has CAP_SYS_RESOURCE.
/// </summary>
public interface IHostLimits
{
    /// <summary>The (soft, hard) limits for <paramref name="resource"/>; null when unknown.</summary>
    (ulong Soft, ulong Hard)? Get(int resource);
}
