using MiniDock.Native;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// runtime.md#delete: only a stopped container may be deleted (an error otherwise, unlike runc
/// and crun); --force kills it first. Then its cgroups and state go, and poststop hooks run
/// (a failing one only warns). Mounts need no work: they lived in the container's mount namespace.
/// </summary>
public static class Delete
{
    public static void Run(StateStore store, string id, bool force, Trace trace)
    {
        StateStore.ValidateId(id);
        if (!store.Exists(id))
        {
            if (force)
            {
                store.Remove(id);
                return;
            }

            throw new RuntimeError($"container {id} does not exist");
        }

        IDisposable held;
        try
        {
            held = store.Lock(id);
        }
        catch (RuntimeError) when (force && !store.Exists(id))
        {
            return; // removed by another delete just now
        }

        using (held)
        {
            if (!store.Exists(id) && force)
            {
                // Deleted by another `delete --force` while we waited for the lock: what was asked is done (runc: exit 0).
                return;
            }

            Run(store, store.Load(id), force, trace);
        }
    }

    /// <summary>Deletes a container whose record the caller holds (a foreground run, right after the wait).</summary>
    public static void Run(StateStore store, ContainerRecord r, bool force, Trace trace)
    {
        var id = r.Id;
        {
            var status = store.Status(r);
            if (status != ContainerStatus.Stopped)
            {
                if (!force)
                {
                    ContainerStateMachine.Require(id, status, LifecycleOp.Delete);
                }

                var cg = StateStore.Cgroup(r);
                if (status == ContainerStatus.Paused)
                {
                    cg.Thaw();
                }

                cg.Signal(Consts.SigKill);
                Libc.kill(r.Pid, Consts.SigKill);
                if (!Processes.WaitGone(r.Pid, r.InitStartTime, 10_000))
                {
                    throw new RuntimeError($"container {id}: init {r.Pid} did not exit after SIGKILL");
                }

                trace.Step($"container {id} killed");
            }

            StateStore.Cgroup(r).Destroy();
            trace.Step($"cgroup {r.CgroupPath} removed");
            store.Remove(id);
            Hooks.RunAllWarn("poststop", r.Spec.Hooks?.Poststop, r.ToOci(ContainerStatus.Stopped), trace);
        }

        trace.Step($"container {id} deleted");
    }
}
