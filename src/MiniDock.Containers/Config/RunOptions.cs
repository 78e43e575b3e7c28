namespace MiniDock.Containers.Config;

/// <summary>
/// What the user asked for on <c>run</c>/<c>create</c>, as typed (parsed only as far as the
/// command line needs). <see cref="BundleBuilder"/> turns it and the image config into config.json;
/// the container store keeps it so that <c>start</c> and <c>restart</c> rebuild the same container.
/// </summary>
public sealed class RunOptions
{
    /// <summary>The image as the user typed it (a reference or an ID prefix).</summary>
    public string Image { get; set; } = "";

    /// <summary><c>--name</c>; null: a generated name.</summary>
    public string? Name { get; set; }

    /// <summary><c>--entrypoint</c>: null keeps the image's; "" clears it (Docker's <c>--entrypoint ""</c>).</summary>
    public string? Entrypoint { get; set; }

    /// <summary>Trailing arguments after the image: they replace the image's Cmd.</summary>
    public List<string> Args { get; set; } = [];

    /// <summary><c>-e</c> values, raw: <c>NAME=value</c>, or <c>NAME</c> to take the caller's value.</summary>
    public List<string> Env { get; set; } = [];

    /// <summary><c>--env-file</c> paths, in order (each read when the bundle is built).</summary>
    public List<string> EnvFiles { get; set; } = [];

    /// <summary><c>-w</c>.</summary>
    public string? WorkDir { get; set; }

    /// <summary><c>-u</c>: <c>name|uid[:group|gid]</c>.</summary>
    public string? User { get; set; }

    /// <summary><c>--hostname</c>; null: the short container ID.</summary>
    public string? Hostname { get; set; }

    /// <summary><c>-v</c> values, raw: <c>/host:/ctr[:ro]</c>, <c>name:/ctr[:ro]</c>, or <c>/ctr</c> (anonymous).</summary>
    public List<string> Volumes { get; set; } = [];

    /// <summary><c>-t</c>.</summary>
    public bool Tty { get; set; }

    /// <summary><c>-i</c>.</summary>
    public bool Interactive { get; set; }

    /// <summary><c>-d</c>.</summary>
    public bool Detach { get; set; }

    /// <summary><c>--rm</c>.</summary>
    public bool AutoRemove { get; set; }

    /// <summary><c>--read-only</c>.</summary>
    public bool ReadOnly { get; set; }

    /// <summary><c>--init</c>: tini as PID 1, forwarding signals and reaping zombies.</summary>
    public bool Init { get; set; }

    /// <summary><c>-m/--memory</c> in bytes.</summary>
    public long? Memory { get; set; }

    /// <summary><c>--cpus</c>.</summary>
    public double? Cpus { get; set; }

    /// <summary><c>--pids-limit</c>.</summary>
    public long? PidsLimit { get; set; }

    /// <summary><c>--memory-reservation</c> in bytes: the soft limit the kernel reclaims down to under pressure.</summary>
    public long? MemoryReservation { get; set; }

    /// <summary><c>--memory-swap</c>: memory plus swap in bytes, -1 unlimited; defaulted to 2×<c>-m</c> at create, as Docker.</summary>
    public long? MemorySwap { get; set; }

    /// <summary><c>--memory-swappiness</c> 0..100 (cgroup v1 only).</summary>
    public long? MemorySwappiness { get; set; }

    /// <summary><c>--oom-kill-disable</c> (cgroup v1 only).</summary>
    public bool OomKillDisable { get; set; }

    /// <summary><c>--cpu-shares</c>: the relative CPU weight (1024 is the default share).</summary>
    public long? CpuShares { get; set; }

    /// <summary><c>--cpu-period</c> in µs (CFS), exclusive with <c>--cpus</c>.</summary>
    public long? CpuPeriod { get; set; }

    /// <summary><c>--cpu-quota</c> in µs per period (CFS), exclusive with <c>--cpus</c>.</summary>
    public long? CpuQuota { get; set; }

    /// <summary><c>--cpuset-cpus</c>, e.g. "0-2,4".</summary>
    public string? CpusetCpus { get; set; }

    /// <summary><c>--cpuset-mems</c>, e.g. "0".</summary>
    public string? CpusetMems { get; set; }

    /// <summary><c>--blkio-weight</c> 10..1000.</summary>
    public long? BlkioWeight { get; set; }

    /// <summary>
    /// <c>--network</c>: bridge (the CLI's default, as Docker's), none, host, <c>container:NAME</c>, or a user-defined
    /// network's name or ID. A library caller that says nothing gets none: no CNI, no bridge.
    /// </summary>
    public string Network { get; set; } = "none";

    /// <summary><c>-p</c> specs as typed (<see cref="Networks.PortSpec.Parse"/>).</summary>
    public List<string> Publish { get; set; } = [];

    /// <summary><c>-P</c>: every exposed port (image ExposedPorts and <c>--expose</c>) on a random host port.</summary>
    public bool PublishAll { get; set; }

    /// <summary><c>--expose</c> specs as typed.</summary>
    public List<string> Expose { get; set; } = [];

    /// <summary><c>--network-alias</c>: more names the embedded DNS answers for this container on a user-defined network.</summary>
    public List<string> NetworkAliases { get; set; } = [];

    /// <summary><c>--stop-signal</c>; null: the image's StopSignal, else SIGTERM.</summary>
    public string? StopSignal { get; set; }

    /// <summary><c>--stop-timeout</c> in seconds; null: 10.</summary>
    public int? StopTimeout { get; set; }

    /// <summary><c>--ulimit</c> values, raw: <c>nofile=1024[:2048]</c>.</summary>
    public List<string> Ulimits { get; set; } = [];

    /// <summary><c>--restart</c>: no, on-failure[:N], always, unless-stopped.</summary>
    public string Restart { get; set; } = "no";

    /// <summary><c>--platform</c> for a pull the run needs.</summary>
    public string? Platform { get; set; }

    /// <summary><c>--cap-add</c> names (with or without CAP_; ALL for every capability).</summary>
    public List<string> CapAdd { get; set; } = [];

    /// <summary><c>--cap-drop</c> names (ALL drops every default first; --cap-add then adds back).</summary>
    public List<string> CapDrop { get; set; } = [];

    /// <summary>
    /// <c>--security-opt</c> values (<see cref="Config.SecurityOpts"/>): no-new-privileges, seccomp=unconfined|builtin|{profile
    /// JSON, inlined from the file by the CLI}, systempaths=unconfined, apparmor=unconfined, label=disable.
    /// </summary>
    public List<string> SecurityOpts { get; set; } = [];

    /// <summary><c>--privileged</c>: every capability, no seccomp, no masked paths, the host's devices (<see cref="Config.Privileged"/>).</summary>
    public bool Privileged { get; set; }

    /// <summary>
    /// <c>--userns-remap</c>, resolved to <c>HOSTID:SIZE</c> (<see cref="UsernsRemap"/>): the container runs in a new user
    /// namespace whose ids 0..SIZE-1 are the host's HOSTID..; null: the host's user namespace, as before.
    /// </summary>
    public string? UsernsRemap { get; set; }

    /// <summary><c>--label</c> values (KEY=VALUE), added to the image's labels.</summary>
    public List<string> Labels { get; set; } = [];

    /// <summary><c>--dns</c> nameserver addresses: they replace the host's in the container's resolv.conf.</summary>
    public List<string> Dns { get; set; } = [];

    /// <summary><c>--dns-search</c> domains: they replace the host's search line.</summary>
    public List<string> DnsSearch { get; set; } = [];

    /// <summary><c>--dns-option</c> values: they replace the host's options line.</summary>
    public List<string> DnsOptions { get; set; } = [];

    /// <summary><c>--add-host</c> values, raw: <c>NAME:IP</c> (or <c>NAME=IP</c>), appended to the container's /etc/hosts.</summary>
    public List<string> AddHosts { get; set; } = [];
}
