using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups;

/// <summary>
/// One container's cgroup, whatever the hierarchy (v1 controllers, or the v2 unified tree).
/// One implementation per cgroup version; each controller's file writes live in its own file
/// under V1/ or V2/ (as crun and youki split them).
/// </summary>
public interface ICgroupManager
{
    /// <summary>The cgroup path relative to each hierarchy's root, e.g. <c>/minidock/abc</c>.</summary>
    string Path { get; }

    /// <summary>Directories this manager made, deepest last; <see cref="Destroy"/> removes them deepest first.</summary>
    IReadOnlyList<string> Created { get; }

    /// <summary>Creates the cgroup directories (and initialises what v1 cpuset needs).</summary>
    void Create();

    /// <summary>Writes the limits. Called before the init is placed, and again by <c>update</c>.</summary>
    void Set(ResourcesSpec resources, IReadOnlyList<DeviceSpec>? extraDevices);

    /// <summary>Moves a process (all of its threads) into the cgroup.</summary>
    void AddProcess(int pid);

    IReadOnlyList<int> Pids();

    void Freeze();

    void Thaw();

    bool IsFrozen();

    /// <summary>
    /// How many processes the kernel's OOM killer has killed in this cgroup (v1 memory.oom_control
    /// <c>oom_kill</c>, v2 memory.events <c>oom_kill</c>); 0 where the memory controller is absent. Read
    /// before the cgroup goes, so that a user sees why a container exited 137 (Docker's OOMKilled).
    /// </summary>
    long OomKills();

    /// <summary>
    /// The cgroup's counters now (CPU time, memory, pids, block I/O), for <c>stats</c>; a controller that is
    /// absent reads as zero. Readers live with each driver's controller files.
    /// </summary>
    CgroupStats Stats();

    /// <summary>
    /// Sends <paramref name="signal"/> to every process in the cgroup. SIGKILL leaves nothing behind and
    /// nothing frozen: v2 uses <c>cgroup.kill</c> where the kernel has it (5.14+), which also reaches
    /// processes forked meanwhile; v1 freezes, signals each task, then thaws (runc's signalAllProcesses),
    /// so a paused container dies too.
    /// </summary>
    void Signal(int signal);

    /// <summary>Kills everything left, then removes the directories this container created.</summary>
    void Destroy();

    /// <summary>The cgroup directories, for diagnostics and tests.</summary>
    IReadOnlyList<string> Directories { get; }
}
