using MiniDock.Containers.Config;
using MiniDock.Containers.Resources;
using MiniDock.Containers.Store;
using MiniDock.Runtime;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Containers;

/// <summary>
/// pause/unpause, update and the cgroup readings for stats: the container operations on a live container's
/// cgroup (Docker's https://docs.docker.com/reference/cli/docker/container/pause/, …/update/, …/stats/).
/// </summary>
public sealed partial class ContainerService
{
    /// <summary><c>pause</c>: freezes every process of a running container (cgroup freezer), with Docker's errors.</summary>
    public void Pause(ContainerRow row)
    {
        var s = Refresh(row);
        if (s == ContainerState.Paused)
        {
            throw new ContainerException($"Container {row.Id} is already paused");
        }

        if (s != ContainerState.Running || !Runtime.Exists(row.Id))
        {
            throw new ContainerException($"Container {row.Id} is not running");
        }

        MiniDock.Runtime.Lifecycle.Pause.Run(Runtime, row.Id, pause: true, Trace);
    }

    /// <summary><c>unpause</c>: thaws a paused container.</summary>
    public void Unpause(ContainerRow row)
    {
        if (Refresh(row) != ContainerState.Paused)
        {
            throw new ContainerException($"Container {row.Id} is not paused");
        }

        MiniDock.Runtime.Lifecycle.Pause.Run(Runtime, row.Id, pause: false, Trace);
    }

    /// <summary>
    /// <c>update</c>: merges the new limits (and restart policy) into the stored run options, so a restart keeps
    /// them; a created, running or paused container also gets them at once through the engine's update. A stopped
    /// one only has its options changed, as Docker does. Returns Docker's warnings for discarded values.
    /// </summary>
    public IReadOnlyList<string> Update(ContainerRow row, ResourceUpdate u, IResourceHost? host = null)
    {
        host ??= ResourceHost.Current;
        Refresh(row); // finalizes an orphan first, so a dead container's leftover runtime state is not updated
        using var held = Lock(row.Id);
        var now = Db.Get(row.Id) ?? throw new ContainerException($"No such container: {row.Id}");
        var merged = ResourceLimits.Merge(RunOptionsJson.Read(now.Options), u);
        var warnings = ResourceLimits.Check(merged, host);
        if (u.HasLimits && Runtime.Exists(row.Id) && Runtime.Status(Runtime.Load(row.Id)) != ContainerStatus.Stopped)
        {
            try
            {
                MiniDock.Runtime.Lifecycle.Update.Run(Runtime, row.Id, ResourceLimits.UpdatePatch(merged, u, host.CpuCount), Trace);
            }
            catch (RuntimeError e)
            {
                throw new ContainerException($"Cannot update container {row.Id}: {e.Message}");
            }
        }

        Db.Update(row.Id, r =>
        {
            r.Options = RunOptionsJson.Write(merged);
            return true;
        });
        return warnings;
    }

    /// <summary>The container's cgroup counters now; null when it has no live cgroup (not running, or gone meanwhile).</summary>
    public CgroupStats? CgroupStatsOf(ContainerRow row)
    {
        try
        {
            return row.Pid > 0 && Runtime.Exists(row.Id) ? StateStore.Cgroup(Runtime.Load(row.Id)).Stats() : null;
        }
        catch (RuntimeError)
        {
            return null;
        }
    }

    /// <summary>Thaws a paused container after a signal was queued for it (a missing cgroup means it already ended).</summary>
    private void ThawQuietly(ContainerRow row)
    {
        try
        {
            if (Runtime.Exists(row.Id))
            {
                StateStore.Cgroup(Runtime.Load(row.Id)).Thaw();
            }
        }
        catch (Exception e) when (e is RuntimeError or IOException)
        {
            // ended meanwhile: nothing left to thaw
        }
    }
}
