using System.CommandLine;
using System.Globalization;
using MiniDock.Containers.Config;

namespace MiniDock.Cli.Commands;

/// <summary>The flags <c>run</c> and <c>create</c> share (Docker's names), and their reading into <see cref="RunOptions"/>.</summary>
internal sealed class RunFlags
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(StringComparer.Ordinal)
    {
        "--name", "-e", "--env", "--env-file", "-v", "--volume", "-w", "--workdir", "-u", "--user", "--entrypoint", "-h", "--hostname",
        "-m", "--memory", "--cpus", "--pids-limit", "--network", "--net", "--stop-timeout", "--stop-signal", "--ulimit", "--restart",
        "--platform", "-l", "--label", "--dns", "--dns-search", "--dns-option", "--dns-opt", "--add-host", "--cap-add", "--cap-drop", "--security-opt",
        "--userns-remap", "--memory-reservation", "--memory-swap", "--memory-swappiness", "--cpu-shares", "-c", "--cpu-period", "--cpu-quota", "--cpuset-cpus", "--cpuset-mems", "--blkio-weight",
        "-p", "--publish", "--expose", "--network-alias",
    };

    public Argument<string> Image { get; } = new("image") { Description = "the image to run" };

    public Option<bool> Interactive { get; } = new("--interactive", "-i") { Description = "keep stdin open" };

    public Option<bool> Tty { get; } = new("--tty", "-t") { Description = "allocate a pseudo-terminal" };

    public Option<bool> Rm { get; } = new("--rm") { Description = "remove the container when it exits" };

    public Option<bool> Detach { get; } = new("--detach", "-d") { Description = "run in the background and print the container ID" };

    public Option<string?> Name { get; } = new("--name") { Description = "assign a name" };

    public Option<string[]> Env { get; } = new("--env", "-e") { Description = "set an environment variable (NAME=VALUE, or NAME to pass ours)" };

    public Option<string[]> EnvFile { get; } = new("--env-file") { Description = "read environment variables from a file" };

    public Option<string[]> Volume { get; } = new("--volume", "-v") { Description = "bind mount /host:/ctr[:ro], named volume name:/ctr, or anonymous /ctr" };

    public Option<string?> Workdir { get; } = new("--workdir", "-w") { Description = "working directory inside the container" };

    public Option<string?> User { get; } = new("--user", "-u") { Description = "name|uid[:group|gid]" };

    public Option<string?> Entrypoint { get; } = new("--entrypoint") { Description = "override the image's entrypoint (\"\" clears it)" };

    public Option<string?> Hostname { get; } = new("--hostname", "-h") { Description = "container host name" };

    public Option<string?> Memory { get; } = new("--memory", "-m") { Description = "memory limit (e.g. 512m)" };

    public Option<string?> Cpus { get; } = new("--cpus") { Description = "number of CPUs (e.g. 1.5)" };

    public Option<long?> PidsLimit { get; } = new("--pids-limit") { Description = "maximum number of processes" };

    /// <summary>--memory-reservation, --memory-swap, --cpu-shares, --cpuset-cpus… (<see cref="ResourceFlags"/>).</summary>
    public ResourceFlags ResourceLimits { get; } = new();

    public Option<bool> ReadOnly { get; } = new("--read-only") { Description = "mount the root filesystem read-only" };

    public Option<string> Network { get; } = new("--network", "--net") { Description = "bridge (default), none, host, container:NAME, or a network's name", DefaultValueFactory = _ => "bridge" };

    public Option<string[]> Publish { get; } = new("--publish", "-p") { Description = "publish a port: [hostIP:][hostPort:]containerPort[/tcp|udp]" };

    public Option<bool> PublishAll { get; } = new("--publish-all", "-P") { Description = "publish every exposed port on a random host port" };

    public Option<string[]> Expose { get; } = new("--expose") { Description = "expose a port or range (for -P)" };

    public Option<string[]> NetworkAlias { get; } = new("--network-alias") { Description = "another name for the container on a user-defined network" };

    public Option<bool> Init { get; } = new("--init") { Description = "run tini as PID 1 to forward signals and reap zombies" };

    public Option<int?> StopTimeout { get; } = new("--stop-timeout") { Description = "seconds to wait after the stop signal before SIGKILL" };

    public Option<string?> StopSignal { get; } = new("--stop-signal") { Description = "signal that stops the container" };

    public Option<string[]> Ulimit { get; } = new("--ulimit") { Description = "resource limit, e.g. nofile=1024:2048" };

    public Option<string> Restart { get; } = new("--restart") { Description = "no, on-failure[:N], always, unless-stopped", DefaultValueFactory = _ => "no" };

    public Option<string?> Platform { get; } = new("--platform") { Description = "platform to pull if the image is missing" };

    public Option<string[]> Label { get; } = new("--label", "-l") { Description = "set metadata KEY=VALUE" };

    public Option<string[]> Dns { get; } = new("--dns") { Description = "set a nameserver (replaces the host's)" };

    public Option<string[]> DnsSearch { get; } = new("--dns-search") { Description = "set a DNS search domain" };

    public Option<string[]> DnsOption { get; } = new("--dns-option", "--dns-opt") { Description = "set a resolv.conf option" };

    public Option<string[]> AddHost { get; } = new("--add-host") { Description = "add NAME:IP to /etc/hosts" };

    public Option<string[]> CapAdd { get; } = new("--cap-add") { Description = "add a Linux capability (or ALL)" };

    public Option<string[]> CapDrop { get; } = new("--cap-drop") { Description = "drop a Linux capability (or ALL)" };

    public Option<string[]> SecurityOpt { get; } = new("--security-opt") { Description = "no-new-privileges, seccomp=unconfined|PROFILE.json, systempaths=unconfined" };

    public Option<bool> Privileged { get; } = new("--privileged") { Description = "all capabilities, no seccomp, no masked paths, the host's devices" };

    public Option<string?> UsernsRemap { get; } = new("--userns-remap") { Description = "run in a new user namespace: HOSTID:SIZE, 'default' or a user from /etc/subuid" };

    public void AddTo(Command cmd, bool run)
    {
        cmd.Arguments.Add(Image);
        foreach (var o in new Option[] { Interactive, Tty, Rm, Name, Env, EnvFile, Volume, Workdir, User, Entrypoint, Hostname, Memory, Cpus, PidsLimit, ReadOnly, Network, Publish, PublishAll, Expose, NetworkAlias, Init, StopTimeout, StopSignal, Ulimit, Restart, Platform, Label, Dns, DnsSearch, DnsOption, AddHost, CapAdd, CapDrop, SecurityOpt, Privileged, UsernsRemap })
        {
            cmd.Options.Add(o);
        }

        ResourceLimits.AddTo(cmd);
        if (run)
        {
            cmd.Options.Add(Detach);
        }
    }

    public RunOptions Read(ParseResult p, string[] command)
    {
        var o = new RunOptions
        {
            Image = p.GetValue(Image)!,
            Name = p.GetValue(Name),
            Entrypoint = p.GetValue(Entrypoint),
            Args = [.. command],
            Env = [.. p.GetValue(Env) ?? []],
            EnvFiles = [.. (p.GetValue(EnvFile) ?? []).Select(Path.GetFullPath)],
            WorkDir = p.GetValue(Workdir),
            User = p.GetValue(User),
            Hostname = p.GetValue(Hostname),
            Volumes = [.. p.GetValue(Volume) ?? []],
            Tty = p.GetValue(Tty),
            Interactive = p.GetValue(Interactive),
            Detach = p.GetValue(Detach),
            AutoRemove = p.GetValue(Rm),
            ReadOnly = p.GetValue(ReadOnly),
            Init = p.GetValue(Init),
            Memory = p.GetValue(Memory) is { } m ? Units.ParseBytes(m) : null,
            Cpus = p.GetValue(Cpus) is { } c ? ResourceFlags.ParseCpus(c) : null,
            PidsLimit = p.GetValue(PidsLimit),
            Network = p.GetValue(Network) ?? "bridge",
            Publish = [.. p.GetValue(Publish) ?? []],
            PublishAll = p.GetValue(PublishAll),
            Expose = [.. p.GetValue(Expose) ?? []],
            NetworkAliases = [.. p.GetValue(NetworkAlias) ?? []],
            StopSignal = p.GetValue(StopSignal),
            StopTimeout = p.GetValue(StopTimeout),
            Ulimits = [.. p.GetValue(Ulimit) ?? []],
            Restart = p.GetValue(Restart) ?? "no",
            Platform = p.GetValue(Platform),
            Labels = [.. p.GetValue(Label) ?? []],
            Dns = [.. p.GetValue(Dns) ?? []],
            DnsSearch = [.. p.GetValue(DnsSearch) ?? []],
            DnsOptions = [.. p.GetValue(DnsOption) ?? []],
            AddHosts = [.. p.GetValue(AddHost) ?? []],
            CapAdd = [.. p.GetValue(CapAdd) ?? []],
            CapDrop = [.. p.GetValue(CapDrop) ?? []],
            SecurityOpts = SecurityOpts.Inline(p.GetValue(SecurityOpt) ?? []),
            Privileged = p.GetValue(Privileged),
            UsernsRemap = MiniDock.Containers.Config.UsernsRemap.Resolve(p.GetValue(UsernsRemap))?.ToString(),
        };

        // Checked here so that a typo fails before anything is created (Docker's 125 with one line).
        ResourceLimits.Read(p, o);
        RestartPolicy.Parse(o.Restart);
        SecurityOpts.Check(o);
        foreach (var u in o.Ulimits)
        {
            MiniDock.Containers.Config.Ulimit.Parse(u);
        }

        foreach (var v in o.Volumes)
        {
            VolumeSpec.Parse(v);
        }

        CheckNetwork(o);
        return o;
    }

    /// <summary>Docker's conflicts between the network mode and the other network flags, and the port specs' syntax.</summary>
    internal static void CheckNetwork(RunOptions o)
    {
        foreach (var spec in o.Publish)
        {
            MiniDock.Containers.Networks.PortSpec.Parse(spec);
        }

        foreach (var spec in o.Expose)
        {
            MiniDock.Containers.Networks.PortSpec.ParseExpose(spec);
        }

        if (o.Network.StartsWith("container:", StringComparison.Ordinal))
        {
            if (o.Network.Length == "container:".Length)
            {
                throw new ContainerException("invalid container format container:<name|id>");
            }

            if (o.Hostname is not null)
            {
                throw new ContainerException("conflicting options: hostname and the network mode");
            }

            if (o.Publish.Count > 0 || o.PublishAll || o.Expose.Count > 0)
            {
                throw new ContainerException("conflicting options: port publishing and the container type network mode");
            }

            if (o.Dns.Count > 0 || o.DnsSearch.Count > 0 || o.DnsOptions.Count > 0 || o.AddHosts.Count > 0)
            {
                throw new ContainerException("conflicting options: dns and the network mode");
            }
        }
        if (o.Network is "none" or "host" or "bridge" || o.Network.StartsWith("container:", StringComparison.Ordinal))
        {
            if (o.NetworkAliases.Count > 0)
            {
                throw new ContainerException("network-scoped alias is supported only for containers in user defined networks");
            }
        }
    }
}
