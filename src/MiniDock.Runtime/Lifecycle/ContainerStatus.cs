namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// The runtime-spec lifecycle (runtime.md#lifecycle) as an explicit state machine. Every operation
/// asks <see cref="ContainerStateMachine"/> whether it is allowed from the current status, so the
/// rules live in one table instead of being scattered through the commands.
/// </summary>
public enum ContainerStatus
{
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

/// <summary>The operations the state machine knows.</summary>
public enum LifecycleOp
{
    Start,
    Kill,
    Delete,
    Exec,
    Pause,
    Resume,

    /// <summary>runc update: change the cgroup limits of a live container.</summary>
    Update,
}

public static class ContainerStateMachine
{
    /// <summary>Whether <paramref name="op"/> may run in <paramref name="status"/>.</summary>
    /// <remarks>
    /// runtime.md: start only from created; kill from created or running; delete only from stopped
    /// (runc and crun get this wrong); exec only into a running container; pause/resume per runc.
    /// </remarks>
    public static bool Allows(ContainerStatus status, LifecycleOp op) => (op, status) switch
    {
        (LifecycleOp.Start, ContainerStatus.Created) => true,
        (LifecycleOp.Kill, ContainerStatus.Created or ContainerStatus.Running or ContainerStatus.Paused) => true,
        (LifecycleOp.Delete, ContainerStatus.Stopped) => true,
        (LifecycleOp.Exec, ContainerStatus.Running) => true,
        (LifecycleOp.Pause, ContainerStatus.Running) => true,
        (LifecycleOp.Resume, ContainerStatus.Paused) => true,
        (LifecycleOp.Update, ContainerStatus.Created or ContainerStatus.Running or ContainerStatus.Paused) => true,
        _ => false,
    };

    public static void Require(string id, ContainerStatus status, LifecycleOp op)
    {
        if (!Allows(status, op))
        {
            throw new RuntimeError(op switch
            {
                LifecycleOp.Start => $"cannot start container {id}: it is {Name(status)}, not created",
                LifecycleOp.Delete => $"cannot delete container {id}: it is {Name(status)}, not stopped (use --force to kill it first)",
                LifecycleOp.Exec => $"cannot exec in container {id}: it is {Name(status)}, not running",
                LifecycleOp.Kill => $"cannot kill container {id}: it is {Name(status)}",
                LifecycleOp.Pause => $"cannot pause container {id}: it is {Name(status)}, not running",
                LifecycleOp.Update => $"cannot update container {id}: it is {Name(status)}",
                _ => $"cannot resume container {id}: it is {Name(status)}, not paused",
            });
        }
    }

    public static string Name(ContainerStatus s) => s switch
    {
        ContainerStatus.Creating => "creating",
        ContainerStatus.Created => "created",
        ContainerStatus.Running => "running",
        ContainerStatus.Paused => "paused",
        _ => "stopped",
    };
}
