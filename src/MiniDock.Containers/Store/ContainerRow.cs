using SQLite;

namespace MiniDock.Containers.Store;

/// <summary>
/// One row of <c>containers</c>: what a user sees of a container. The process facts (pid, exit code) are written
/// by whoever owns the container's process at the time (its monitor, or a foreground <c>run</c>), and checked
/// against the live process table before they are shown (see <see cref="ContainerService.Refresh"/>).
/// </summary>
/// <remarks>A plain mutable class because sqlite-net-pcl maps rows by property setters.</remarks>
[Table("containers")]
public sealed class ContainerRow
{
    /// <summary>64 lowercase hex characters, as Docker's container IDs.</summary>
    [PrimaryKey, Column("id")]
    public string Id { get; set; } = "";

    /// <summary>Unique name (without Docker's leading slash).</summary>
    [Column("name")]
    public string Name { get; set; } = "";

    /// <summary>The image as the user typed it.</summary>
    [Column("image")]
    public string Image { get; set; } = "";

    /// <summary>The image ID (config digest) the container was created from.</summary>
    [Column("image_id")]
    public string ImageId { get; set; } = "";

    /// <summary>Creation time, UTC ticks.</summary>
    [Column("created")]
    public long Created { get; set; }

    /// <summary>The <c>run</c>/<c>create</c> flags as JSON (<see cref="RunOptionsJson"/>): start rebuilds the bundle from them.</summary>
    [Column("options")]
    public string Options { get; set; } = "{}";

    /// <summary>What the last bundle build resolved (args, env, user, mounts…) as JSON, for inspect.</summary>
    [Column("resolved")]
    public string? Resolved { get; set; }

    /// <summary>Docker's status word: created, running, paused, restarting, exited, dead, removing.</summary>
    [Column("state")]
    public string State { get; set; } = "created";

    /// <summary>Host PID of the container's init while it runs.</summary>
    [Column("pid")]
    public int Pid { get; set; }

    /// <summary>That PID's start time (clock ticks since boot), so a reused PID is never mistaken for it.</summary>
    [Column("pid_start")]
    public long PidStart { get; set; }

    /// <summary>PID of the process that waits for the init and records its exit (monitor or foreground CLI).</summary>
    [Column("monitor_pid")]
    public int MonitorPid { get; set; }

    /// <summary>Start time of <see cref="MonitorPid"/>.</summary>
    [Column("monitor_start")]
    public long MonitorStart { get; set; }

    /// <summary>Exit code of the last run (128+N when killed by signal N).</summary>
    [Column("exit_code")]
    public int ExitCode { get; set; }

    /// <summary>True when the kernel's OOM killer ended the last run.</summary>
    [Column("oom_killed")]
    public bool OomKilled { get; set; }

    /// <summary>Why the last start failed, or why the exit status is unknown.</summary>
    [Column("error")]
    public string? Error { get; set; }

    /// <summary>Last start, UTC ticks (0: never).</summary>
    [Column("started_at")]
    public long StartedAt { get; set; }

    /// <summary>Last exit, UTC ticks (0: never).</summary>
    [Column("finished_at")]
    public long FinishedAt { get; set; }

    /// <summary>Restarts made by the restart policy.</summary>
    [Column("restart_count")]
    public int RestartCount { get; set; }

    /// <summary>Set by stop/kill from the user, so the restart policy does not bring the container back.</summary>
    [Column("stopped_by_user")]
    public bool StoppedByUser { get; set; }

    /// <summary>The snapshotter that holds its rootfs (overlay or vfs).</summary>
    [Column("driver")]
    public string Driver { get; set; } = "overlay";
}
