using System.Globalization;
using MiniDock.Native;

namespace MiniDock.Containers.Config;

/// <summary>
/// Builds a container's OCI bundle from its image config and <c>run</c> flags: config.json
/// (https://github.com/opencontainers/image-spec/blob/main/conversion.md, with Docker's defaults from moby's
/// oci/defaults.go for everything the image does not say) and the hostname, hosts and resolv.conf files it binds.
/// Everything that can be refused is checked before anything is created.
/// </summary>
public static class BundleBuilder
{
    public static BundleResult Build(BundleInputs inputs)
    {
        var o = inputs.Options;
        var image = inputs.Image;
        CheckPaths(inputs);

        // 1. Everything that needs no rootfs and creates nothing.
        var plan = inputs.Network;
        var hostNetwork = plan is null && Network(o.Network);
        var args = Args(image, o);
        if (o.Init)
        {
            if (inputs.InitBinary is null)
            {
                throw new ContainerException("--init: no tini-static found (apt-get install tini)");
            }

            if (!File.Exists(inputs.InitBinary))
            {
                throw new ContainerException($"--init: {inputs.InitBinary} does not exist");
            }

            args.InsertRange(0, [DockerDefaults.InitPath, "--"]);
        }

        var hostname = o.Hostname is { } h ? CheckHostname(h)
            : plan?.SharedEtcDir is { } shared ? File.ReadAllText(Path.Combine(shared, MountPlanner.HostnameFile)).Trim()
            : hostNetwork ? inputs.HostHostname ?? HostFacts.Hostname()
            : inputs.ContainerId[..12];
        var cwd = WorkingDir(o.WorkDir ?? image.WorkingDir);
        var stopSignal = StopSignals.Normalize(o.StopSignal ?? image.StopSignal ?? "SIGTERM");
        var rlimits = Rlimits(o.Ulimits, inputs);
        var volumes = MountPlanner.Plan(o.Volumes, image.Volumes);
        var annotations = Annotations(image, o.Labels);
        var addHosts = EtcFiles.ParseAddHosts(o.AddHosts);
        EtcFiles.CheckDns(o.Dns);
        var resources = MiniDock.Containers.Resources.ResourceLimits.ToSpec(o, inputs.CpuCount ?? Environment.ProcessorCount);
        var security = SecurityOpts.Parse(o.SecurityOpts);
        var capabilities = CapabilityFlags.Resolve(o.CapAdd, o.CapDrop, o.Privileged);
        var seccomp = Seccomp.ContainerSeccomp.For(security, capabilities, o.Privileged, kernel: inputs.KernelVersion);
        var remap = UsernsRemap.Parse(o.UsernsRemap);

        // 2. The rootfs: the user, then the working directory.
        ResolvedUser user;
        using (var rootfs = new RootfsFiles(inputs.RootPath))
        {
            user = UserResolver.Resolve(o.User ?? image.User, rootfs);
            if (remap is not null)
            {
                CheckMapped(user, remap);
            }

            var env0 = EnvBuilder.Build(hostname, o.Tty, image.Env, o.EnvFiles, o.Env, inputs.CallerEnv, user.Home);
            if (cwd != "/")
            {
                try
                {
                    rootfs.MkdirAll(cwd);
                }
                catch (SysException e)
                {
                    throw new ContainerException($"cannot create working directory {cwd}: {e.Message}");
                }
            }

            // 3. What lives outside the rootfs: volumes, then the bundle's files.
            var user0 = MountPlanner.Materialize(volumes, inputs);
            var mounts = MountPlanner.All([.. user0.Select(m => m.Mount)], inputs.BundleDir, o.ReadOnly, o.Init ? inputs.InitBinary : null);
            if (o.Privileged)
            {
                mounts = Privileged.Mounts(mounts);
            }

            var namespaces = new List<string> { "pid", "ipc", "uts", "mount" };
            if (remap is not null)
            {
                namespaces.Insert(0, "user");
            }

            var namespacePaths = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!hostNetwork)
            {
                namespaces.Add("network");
                if (plan is not null)
                {
                    namespacePaths["network"] = plan.NamespacePath;
                }
            }

            if (inputs.CgroupV2Only ?? HostFacts.CgroupV2Only())
            {
                namespaces.Add("cgroup");
            }

            var config = new OciConfig
            {
                Terminal = o.Tty,
                Uid = user.Uid,
                Gid = user.Gid,
                AdditionalGids = user.AdditionalGids,
                Args = args,
                Env = env0,
                Cwd = cwd,
                Capabilities = capabilities,
                NoNewPrivileges = security.NoNewPrivileges,
                Seccomp = seccomp,
                Rlimits = rlimits,
                RootPath = inputs.RootPath,
                RootReadonly = o.ReadOnly,
                Hostname = hostname,
                Mounts = mounts,
                Annotations = annotations,
                Namespaces = namespaces,
                NamespacePaths = namespacePaths,
                Devices = o.Privileged ? Privileged.DeviceRules : DockerDefaults.Devices,
                LinuxDevices = o.Privileged ? Privileged.HostDevices(inputs.HostDevDir ?? "/dev") : [],
                Resources = resources,
                CgroupsPath = inputs.CgroupParent.TrimEnd('/') + "/" + inputs.ContainerId,
                MaskedPaths = o.Privileged || security.SystemPathsUnconfined ? [] : DockerDefaults.MaskedPaths,
                ReadonlyPaths = o.Privileged || security.SystemPathsUnconfined ? [] : DockerDefaults.ReadonlyPaths,
                UserNamespaceMap = remap,
            };
            var json = ConfigJsonWriter.Write(config);

            Directory.CreateDirectory(inputs.BundleDir);
            WriteAtomic(Path.Combine(inputs.BundleDir, MountPlanner.HostnameFile), System.Text.Encoding.UTF8.GetBytes(EtcFiles.Hostname(hostname)));
            var hosts = plan?.SharedEtcDir is { } etcDir ? File.ReadAllText(Path.Combine(etcDir, MountPlanner.HostsFile))
                : EtcFiles.Hosts(hostNetwork, inputs.HostHostsFile, addHosts, plan?.Address is { } self ? (self, hostname) : null);
            var resolv = plan?.SharedEtcDir is { } etcDir2 ? File.ReadAllText(Path.Combine(etcDir2, MountPlanner.ResolvConfFile))
                : EtcFiles.ResolvConf(hostNetwork, inputs.HostResolvConf, plan?.EmbeddedDns is { } dns && o.Dns.Count == 0 ? [dns] : o.Dns, o.DnsSearch, o.DnsOptions);
            WriteAtomic(Path.Combine(inputs.BundleDir, MountPlanner.HostsFile), System.Text.Encoding.UTF8.GetBytes(hosts));
            WriteAtomic(Path.Combine(inputs.BundleDir, MountPlanner.ResolvConfFile), System.Text.Encoding.UTF8.GetBytes(resolv));
            if (remap is not null)
            {
                // Bind-mounted into the container: its root (host uid HostUid) owns them, as a container's root owns them in Docker.
                foreach (var f in new[] { MountPlanner.HostnameFile, MountPlanner.HostsFile, MountPlanner.ResolvConfFile })
                {
                    Libc.fchownat(Consts.AtFdCwd, Path.Combine(inputs.BundleDir, f), remap.HostUid, remap.HostGid, 0);
                }
            }

            WriteAtomic(Path.Combine(inputs.BundleDir, "config.json"), json);

            return new BundleResult
            {
                ConfigJson = json,
                Hostname = hostname,
                Args = args,
                Env = env0,
                Cwd = cwd,
                Uid = user.Uid,
                Gid = user.Gid,
                AdditionalGids = user.AdditionalGids,
                Mounts = [.. user0.Select(m => m.Info)],
                StopSignal = stopSignal,
                StopTimeout = o.StopTimeout ?? 10,
            };
        }
    }

    /// <summary>
    /// process.args = Entrypoint + Cmd (conversion.md). <c>--entrypoint</c> replaces the image's Entrypoint ("" clears
    /// it) and drops the image's Cmd, as Docker does; trailing arguments replace Cmd.
    /// </summary>
    internal static List<string> Args(Images.ImageConfig image, RunOptions o)
    {
        IReadOnlyList<string> entrypoint = o.Entrypoint is null ? image.Entrypoint ?? [] : o.Entrypoint.Length == 0 ? [] : [o.Entrypoint];
        IReadOnlyList<string> cmd = o.Args.Count > 0 ? o.Args : o.Entrypoint is null ? image.Cmd ?? [] : [];
        var args = new List<string>(entrypoint.Count + cmd.Count);
        args.AddRange(entrypoint);
        args.AddRange(cmd);
        return args.Count > 0 ? args : throw new ContainerException("no command specified");
    }

    /// <summary>
    /// Under <c>--userns-remap</c> the process's uid, gid and supplementary gids must be inside the mapped range: the
    /// kernel could not switch to an unmapped id (setresuid EINVAL), which would fail inside the init after start.
    /// </summary>
    internal static void CheckMapped(ResolvedUser user, UsernsRemap remap)
    {
        if (!remap.MapsUid(user.Uid))
        {
            throw new ContainerException($"user uid {user.Uid} is outside the --userns-remap range (container uids 0-{remap.UidSize - 1})");
        }

        foreach (var gid in user.AdditionalGids.Prepend(user.Gid))
        {
            if (!remap.MapsGid(gid))
            {
                throw new ContainerException($"group gid {gid} is outside the --userns-remap range (container gids 0-{remap.GidSize - 1})");
            }
        }
    }

    /// <summary>Without a <see cref="NetworkPlan"/>: "none" or "host" (true for the host's network); anything else needs one.</summary>
    private static bool Network(string? network) => network switch
    {
        null or "" or "none" => false,
        "host" => true,
        _ => throw new ContainerException($"network {network} not found"),
    };

    /// <summary>An empty WorkingDir means "/" (conversion.md); a relative one is Docker's error.</summary>
    private static string WorkingDir(string? dir)
    {
        if (string.IsNullOrEmpty(dir))
        {
            return "/";
        }

        return dir.StartsWith('/')
            ? VolumeSpec.Clean(dir)
            : throw new ContainerException($"the working directory '{dir}' is invalid, it needs to be an absolute path");
    }

    /// <summary>sethostname(2) takes at most 64 bytes; the name also goes into /etc/hostname, so no whitespace.</summary>
    private static string CheckHostname(string h)
    {
        if (h.Length is 0 or > 64 || h.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_')))
        {
            throw new ContainerException($"invalid hostname format: {h}");
        }

        return h;
    }

    private static void CheckPaths(BundleInputs inputs)
    {
        var id = inputs.ContainerId;
        if (id.Length != 64 || !id.All(char.IsAsciiHexDigitLower))
        {
            throw new ContainerException($"invalid container ID {id}: want 64 lowercase hex digits");
        }

        if (!Path.IsPathRooted(inputs.RootPath) || !Directory.Exists(inputs.RootPath))
        {
            throw new ContainerException($"rootfs {inputs.RootPath} is not an existing absolute directory");
        }

        if (!Path.IsPathRooted(inputs.BundleDir))
        {
            throw new ContainerException($"bundle directory {inputs.BundleDir} must be an absolute path");
        }
    }

    /// <summary>
    /// process.rlimits: Docker's RLIMIT_NOFILE 1048576, lowered to this host's hard limit when we cannot raise
    /// it (without CAP_SYS_RESOURCE the container's setrlimit would fail the start); each <c>--ulimit</c> replaces
    /// the entry of its type, and one whose hard limit we could not set is refused here with a clear message.
    /// </summary>
    internal static List<(string Type, ulong Soft, ulong Hard)> Rlimits(IReadOnlyList<string> ulimits, BundleInputs inputs)
    {
        bool? canRaise = inputs.CanRaiseHardLimits;
        bool CanRaise() => canRaise ??= HostFacts.CanRaiseHardLimits();

        var noFile = DockerDefaults.NoFile;
        if (inputs.HostLimits.Get(7) is { } host && host.Hard < noFile && !CanRaise())
        {
            noFile = host.Hard;
        }

        var list = new List<(string Type, ulong Soft, ulong Hard)> { ("RLIMIT_NOFILE", noFile, noFile) };
        foreach (var raw in ulimits)
        {
            var (name, soft, hard) = Ulimit.Parse(raw);
            var (type, resource) = Ulimit.Names[name];
            if (inputs.HostLimits.Get(resource) is { } lim && hard > lim.Hard && !CanRaise())
            {
                throw new ContainerException($"--ulimit {name}: hard limit {hard} exceeds this host's hard limit {lim.Hard}");
            }

            var i = list.FindIndex(l => l.Type == type);
            if (i >= 0)
            {
                list[i] = (type, soft, hard);
            }
            else
            {
                list.Add((type, soft, hard));
            }
        }

        return list;
    }

    /// <summary>
    /// The image's implicit annotations (os, architecture, variant, created, stopSignal: conversion.md#annotation-fields),
    /// overridden by its Labels, then by <c>--label</c>.
    /// </summary>
    internal static List<KeyValuePair<string, string>> Annotations(Images.ImageConfig image, IReadOnlyList<string> labels)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        void Implicit(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                map[key] = value;
            }
        }

        Implicit("org.opencontainers.image.os", image.Os);
        Implicit("org.opencontainers.image.architecture", image.Architecture);
        Implicit("org.opencontainers.image.variant", image.Variant);
        Implicit("org.opencontainers.image.created", image.Created?.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
        Implicit("org.opencontainers.image.stopSignal", image.StopSignal);
        foreach (var (k, v) in image.Labels)
        {
            map[k] = v;
        }

        foreach (var l in labels)
        {
            var eq = l.IndexOf('=');
            var key = eq < 0 ? l : l[..eq];
            if (key.Length == 0)
            {
                throw new ContainerException($"invalid label: '{l}'");
            }

            map[key] = eq < 0 ? "" : l[(eq + 1)..];
        }

        return [.. map];
    }

    private static void WriteAtomic(string path, byte[] bytes)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }
}
