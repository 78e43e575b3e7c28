using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// What the engine keeps in <c>ROOT/ID/state.json</c> (0600): the OCI state plus what later commands
/// need without re-reading the bundle (which may have changed): the spec as created, the cgroup
/// paths, and the init's start time, which guards against PID reuse.
/// </summary>
public sealed class ContainerRecord
{
    public string Id { get; set; } = "";

    public string Bundle { get; set; } = "";

    public string Rootfs { get; set; } = "";

    public int Pid { get; set; }

    /// <summary>Field 22 of /proc/PID/stat when the init started; a different value means the PID was reused.</summary>
    public ulong InitStartTime { get; set; }

    /// <summary>The last status written; the live status is derived from the process (see <see cref="StateStore"/>).</summary>
    public string Status { get; set; } = "creating";

    public DateTime Created { get; set; }

    public string Owner { get; set; } = "root";

    public string CgroupPath { get; set; } = "";

    /// <summary>The cgroup directories this container made, so delete removes exactly those.</summary>
    public List<string> CgroupCreated { get; set; } = [];

    public RuntimeSpec Spec { get; set; } = new();

    /// <summary>Not stored: the cgroup manager, cached while this record is in use.</summary>
    internal Cgroups.ICgroupManager? Cgroup { get; set; }

    /// <summary>config.json as the bundle had it at create time (kept verbatim in state.json).</summary>
    public byte[] SpecJson { get; set; } = "{}"u8.ToArray();

    public OciState ToOci(ContainerStatus status) => new()
    {
        Id = Id,
        Status = ContainerStateMachine.Name(status),
        Pid = status == ContainerStatus.Stopped ? 0 : Pid,
        Bundle = Bundle,
        Annotations = Spec.Annotations,
        OciVersion = Spec.OciVersion,
    };
}

/// <summary>One row of <c>list --format json</c>, shaped as runc prints it.</summary>
public sealed class ContainerListEntry
{
    public string OciVersion { get; set; } = "";

    public string Id { get; set; } = "";

    public int Pid { get; set; }

    public string Status { get; set; } = "";

    public string Bundle { get; set; } = "";

    public string Rootfs { get; set; } = "";

    public DateTime Created { get; set; }

    public string Owner { get; set; } = "";

    public Dictionary<string, string>? Annotations { get; set; }
}
