namespace MiniDock.Runtime.Lifecycle;

/// <summary>pause/resume through the freezer (v1) or cgroup.freeze (v2).</summary>
public static class Pause
{
    public static void Run(StateStore store, string id, bool pause, Trace trace)
    {
        using var _ = store.Lock(id);
        var r = store.Load(id);
        ContainerStateMachine.Require(id, store.Status(r), pause ? LifecycleOp.Pause : LifecycleOp.Resume);
        var cg = StateStore.Cgroup(r);
        if (pause)
        {
            cg.Freeze();
        }
        else
        {
            cg.Thaw();
        }

        trace.Step($"container {id} {(pause ? "frozen" : "thawed")}");
    }
}
