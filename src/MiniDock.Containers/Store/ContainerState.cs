namespace MiniDock.Containers.Store;

/// <summary>Docker's container states (the <c>.State.Status</c> of inspect).</summary>
public enum ContainerState
{
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

/// <summary>
/// The explicit state machine of a MiniDock container: which user operation is allowed in which state, with
/// Docker's error texts. Every command asks here before it acts, so the rules live in one place.
/// </summary>
public static class ContainerStates
{
    public static string Name(ContainerState s) => s switch
    {
        ContainerState.Created => "created",
        ContainerState.Running => "running",
        ContainerState.Paused => "paused",
        ContainerState.Restarting => "restarting",
        ContainerState.Removing => "removing",
        ContainerState.Exited => "exited",
        _ => "dead",
    };

    public static ContainerState Parse(string s) => s switch
    {
        "created" => ContainerState.Created,
        "running" => ContainerState.Running,
        "paused" => ContainerState.Paused,
        "restarting" => ContainerState.Restarting,
        "removing" => ContainerState.Removing,
        "exited" => ContainerState.Exited,
        _ => ContainerState.Dead,
    };

    /// <summary>True while the container has (or is about to have) a live process.</summary>
    public static bool IsActive(ContainerState s) => s is ContainerState.Running or ContainerState.Paused or ContainerState.Restarting;

    /// <summary>start: from created or exited (a running container is left alone, as Docker does).</summary>
    public static bool CanStart(ContainerState s) => s is ContainerState.Created or ContainerState.Exited or ContainerState.Dead;

    /// <summary>exec, pause: only a running container.</summary>
    public static void RequireRunning(ContainerRow row, ContainerState s, string op)
    {
        if (s == ContainerState.Paused)
        {
            throw new Config.ContainerException($"Container {row.Id} is paused, unpause the container before {op}");
        }

        if (s != ContainerState.Running)
        {
            throw new Config.ContainerException($"Container {row.Id} is not running");
        }
    }

    /// <summary>rm without -f: refused for an active container, with Docker's hint.</summary>
    public static void RequireRemovable(ContainerRow row, ContainerState s)
    {
        if (IsActive(s))
        {
            throw new Config.ContainerException(
                $"cannot remove container \"/{row.Name}\": container is {Name(s)}: stop the container before removing or force remove");
        }
    }
}
