using MiniDock.Native;

namespace MiniDock.Containers.Config;

/// <summary>This process's own limits, read with prlimit(2) through <see cref="Sys.GetRlimit"/>.</summary>
public sealed class HostLimits : IHostLimits
{
    /// <summary>The limits of the running process (what the runtime, and so the container's init, inherits).</summary>
    public static readonly HostLimits Current = new();

    private HostLimits()
    {
    }

    /// <inheritdoc/>
    public (ulong Soft, ulong Hard)? Get(int resource)
    {
        try
        {
            return Sys.GetRlimit(resource);
        }
        catch (SysException)
        {
            return null;
        }
    }
}
