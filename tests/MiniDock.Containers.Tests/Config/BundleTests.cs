using MiniDock.Containers.Config;
using MiniDock.Images;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

/// <summary>The whole config.json: the runtime accepts it, and each Docker default and flag lands where it should.</summary>
public sealed class BundleTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void The_written_config_parses_and_passes_the_runtimes_validation()
    {
        _f.StandardEtc();
        var r = _f.Build(
            new ImageConfig { Os = "linux", Architecture = "amd64", Entrypoint = ["/bin/sh", "-c"], Cmd = ["echo hi"], Env = ["A=1"], WorkingDir = "/app", User = "alice" },
            new RunOptions { Tty = true, ReadOnly = true, Init = true, Memory = 64 << 20, Cpus = 1.5, PidsLimit = 100, Ulimits = ["nproc=50"], Volumes = ["/v"], Labels = ["x=y"] });
        var onDisk = File.ReadAllBytes(Path.Combine(_f.Bundle, "config.json"));
        Assert.Equal(r.ConfigJson, onDisk);
        Assert.Empty(Directory.GetFiles(_f.Bundle, "*.tmp*"));

        var spec = SpecReader.Parse(onDisk);
        SpecValidator.Validate(spec, _f.Bundle);
        Assert.Equal("1.2.0", spec.OciVersion);
        Assert.Equal(_f.Root, spec.Root!.Path);
        Assert.True(spec.Root.Readonly);
        var p = spec.Process!;
        Assert.True(p.Terminal);
        Assert.Equal(["/sbin/docker-init", "--", "/bin/sh", "-c", "echo hi"], p.Args);
        Assert.Equal(r.Env, p.Env);
        Assert.Equal("/app", p.Cwd);
        Assert.False(p.NoNewPrivileges);
        Assert.Null(p.OomScoreAdj);
        Assert.Equal("SCMP_ACT_ERRNO", spec.Linux!.Seccomp!.DefaultAction); // Docker's default profile
    }

    [Fact]
    public void Minimal_config_passes_validation_too()
    {
        var r = _f.Build();
        SpecValidator.Validate(SpecAssert.Parse(r), _f.Bundle);
    }

    [Fact]
    public void Capabilities_are_dockers_default_fourteen_without_inheritable_or_ambient()
    {
        var caps = SpecAssert.Parse(_f.Build()).Process!.Capabilities!;
        string[] expected =
        [
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
        ];
        Assert.Equal(expected, caps.Bounding);
        Assert.Equal(expected, caps.Effective);
        Assert.Equal(expected, caps.Permitted);
        Assert.Null(caps.Inheritable);
        Assert.Null(caps.Ambient);
    }

    [Fact]
    public void Masked_and_readonly_paths_devices_and_cgroups_path_are_dockers()
    {
        var linux = SpecAssert.Parse(_f.Build()).Linux!;
        Assert.Equal(
            ["/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
             "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"],
            linux.MaskedPaths);
        Assert.Equal(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"], linux.ReadonlyPaths);
        Assert.Equal("/minidock/" + BundleFixture.Id, linux.CgroupsPath);
        var d = linux.Resources!.Devices!;
        Assert.Equal((false, null, null, null, "rwm"), (d[0].Allow, d[0].Type, d[0].Major, d[0].Minor, d[0].Access));
        Assert.Equal(
            ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"],
            d.Skip(1).Select(x => $"{x.Type} {(x.Major?.ToString() ?? "*")}:{(x.Minor?.ToString() ?? "*")} {x.Access}").ToList());
        Assert.All(d.Skip(1), x => Assert.True(x.Allow));
        Assert.Null(linux.Resources.Memory);
        Assert.Null(linux.Resources.Cpu);
        Assert.Null(linux.Resources.Pids);
    }

    [Fact]
    public void Cgroup_parent_is_honoured()
    {
        var inputs = _f.Inputs();
        var r = BundleBuilder.Build(new BundleInputs
        {
            Image = inputs.Image, Options = inputs.Options, ContainerId = inputs.ContainerId, RootPath = inputs.RootPath, BundleDir = inputs.BundleDir,
            CgroupParent = "/minidock-test/", HostResolvConf = _f.HostResolv,
        });
        Assert.Equal("/minidock-test/" + BundleFixture.Id, SpecAssert.Parse(r).Linux!.CgroupsPath);
    }

    [Fact]
    public void Resources_memory_cpus_pids()
    {
        var res = SpecAssert.Parse(_f.Build(options: new RunOptions { Memory = Units.ParseBytes("512m"), Cpus = 1.5, PidsLimit = 64 })).Linux!.Resources!;
        Assert.Equal(512L << 20, res.Memory!.Limit);
        Assert.Null(res.Memory.Swap);
        Assert.Equal(150000, res.Cpu!.Quota);
        Assert.Equal(100000UL, res.Cpu.Period);
        Assert.Equal(64, res.Pids!.Limit);
        Assert.Equal(1000, SpecAssert.Parse(_f.Build(options: new RunOptions { Cpus = 0.01 })).Linux!.Resources!.Cpu!.Quota);
        Assert.Null(SpecAssert.Parse(_f.Build(options: new RunOptions { PidsLimit = -1 })).Linux!.Resources!.Pids);
    }

    [Theory]
    [InlineData(1024L, null, "Minimum memory limit allowed is 6MB")]
    [InlineData(null, 5.0, "range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available")]
    [InlineData(null, 0.001, "range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available")]
    [InlineData(null, -1.0, "range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available")]
    public void Bad_resources_are_errors(long? memory, double? cpus, string message)
        => Assert.Equal(message, Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Memory = memory, Cpus = cpus })).Message);

    [Fact]
    public void Namespaces_default_and_cgroup_only_on_a_v2_only_host()
    {
        var ns = SpecAssert.Parse(BundleBuilder.Build(_f.Inputs(cgroupV2: false))).Linux!.Namespaces!.Select(n => n.Type).ToList();
        Assert.Equal(["pid", "ipc", "uts", "mount", "network"], ns);
        Assert.All(SpecAssert.Parse(BundleBuilder.Build(_f.Inputs(cgroupV2: false))).Linux!.Namespaces!, n => Assert.Null(n.Path));
        ns = SpecAssert.Parse(BundleBuilder.Build(_f.Inputs(cgroupV2: true))).Linux!.Namespaces!.Select(n => n.Type).ToList();
        Assert.Equal(["pid", "ipc", "uts", "mount", "network", "cgroup"], ns);
    }

    [Fact]
    public void Network_host_omits_the_network_namespace_and_uses_the_hosts_files_and_name()
    {
        var r = _f.Build(options: new RunOptions { Network = "host" });
        var spec = SpecAssert.Parse(r);
        SpecValidator.Validate(spec, _f.Bundle);
        Assert.Equal(["pid", "ipc", "uts", "mount"], spec.Linux!.Namespaces!.Select(n => n.Type).ToList());
        Assert.Equal("the-host", r.Hostname);
        Assert.Equal("the-host", spec.Hostname);
        Assert.Equal(File.ReadAllText(_f.HostHosts), File.ReadAllText(Path.Combine(_f.Bundle, "hosts")));
        Assert.Equal(File.ReadAllText(_f.HostResolv), File.ReadAllText(Path.Combine(_f.Bundle, "resolv.conf")));
        Assert.Equal("the-host\n", File.ReadAllText(Path.Combine(_f.Bundle, "hostname")));
    }

    [Theory]
    [InlineData("bridge")]
    [InlineData("mynet")]
    public void Other_networks_are_not_found(string network)
        => Assert.Equal($"network {network} not found", Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Network = network })).Message);

    [Fact]
    public void Hostname_defaults_to_the_short_id_and_the_etc_files_are_written()
    {
        var r = _f.Build();
        Assert.Equal("0123456789ab", r.Hostname);
        Assert.Equal("0123456789ab", SpecAssert.Parse(r).Hostname);
        Assert.Equal("0123456789ab\n", File.ReadAllText(Path.Combine(_f.Bundle, "hostname")));
        Assert.Equal(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
            File.ReadAllText(Path.Combine(_f.Bundle, "hosts")));
        Assert.Equal("search example.com\nnameserver 10.0.0.2\noptions ndots:2\n", File.ReadAllText(Path.Combine(_f.Bundle, "resolv.conf")));
    }

    [Fact]
    public void Resolv_conf_with_only_loopback_servers_gets_dockers_defaults()
    {
        File.WriteAllText(_f.HostResolv, "nameserver 127.0.0.1\nnameserver 127.0.0.53\n");
        _f.Build();
        Assert.Equal("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", File.ReadAllText(Path.Combine(_f.Bundle, "resolv.conf")));
    }

    [Fact]
    public void Hostname_option_is_used_and_checked()
    {
        Assert.Equal("web-1.local", _f.Build(options: new RunOptions { Hostname = "web-1.local" }).Hostname);
        Assert.Equal("web-1.local\n", File.ReadAllText(Path.Combine(_f.Bundle, "hostname")));
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Hostname = "bad\nname" }));
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Hostname = new string('a', 65) }));
    }

    [Fact]
    public void Workdir_is_created_in_the_rootfs()
    {
        var r = _f.Build(new ImageConfig { Cmd = ["sh"], WorkingDir = "/srv/app/" });
        Assert.Equal("/srv/app", r.Cwd);
        Assert.True(Directory.Exists(Path.Combine(_f.Root, "srv/app")));
        r = _f.Build(new ImageConfig { Cmd = ["sh"], WorkingDir = "/srv/app" }, new RunOptions { WorkDir = "/w/x" });
        Assert.Equal("/w/x", r.Cwd);
        Assert.True(Directory.Exists(Path.Combine(_f.Root, "w/x")));
        Assert.Equal("/", _f.Build(new ImageConfig { Cmd = ["sh"], WorkingDir = "" }).Cwd);
    }

    [Fact]
    public void Workdir_through_a_symlink_stays_inside_the_rootfs()
    {
        File.CreateSymbolicLink(Path.Combine(_f.Root, "escape"), _f.Outside);
        var r = _f.Build(options: new RunOptions { WorkDir = "/escape/made" });
        Assert.Equal("/escape/made", r.Cwd);
        Assert.False(Directory.Exists(Path.Combine(_f.Outside, "made")));
        Assert.True(Directory.Exists(Path.Combine(_f.Root, _f.Outside.TrimStart('/'), "made")));
    }

    [Fact]
    public void Workdir_must_be_absolute_and_a_directory()
    {
        Assert.Equal("the working directory 'app' is invalid, it needs to be an absolute path",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { WorkDir = "app" })).Message);
        _f.WriteRoot("file", "x");
        Assert.StartsWith("cannot create working directory /file/sub",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { WorkDir = "/file/sub" })).Message);
    }

    [Fact]
    public void Annotations_are_implicit_fields_then_labels_then_cli_labels()
    {
        var created = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        var image = new ImageConfig
        {
            Cmd = ["sh"], Os = "linux", Architecture = "arm64", Variant = "v8", Created = created, StopSignal = "SIGQUIT",
            Labels = new Dictionary<string, string> { ["org.opencontainers.image.architecture"] = "from-label", ["a"] = "1", ["b"] = "2" },
        };
        var ann = SpecAssert.Parse(_f.Build(image, new RunOptions { Labels = ["b=cli", "c", "d=x=y"] })).Annotations!;
        Assert.Equal("linux", ann["org.opencontainers.image.os"]);
        Assert.Equal("from-label", ann["org.opencontainers.image.architecture"]);
        Assert.Equal("v8", ann["org.opencontainers.image.variant"]);
        Assert.Equal("2024-05-06T07:08:09Z", ann["org.opencontainers.image.created"]);
        Assert.Equal("SIGQUIT", ann["org.opencontainers.image.stopSignal"]);
        Assert.Equal("1", ann["a"]);
        Assert.Equal("cli", ann["b"]);
        Assert.Equal("", ann["c"]);
        Assert.Equal("x=y", ann["d"]);
        Assert.False(SpecAssert.Parse(_f.Build()).Annotations!.ContainsKey("org.opencontainers.image.stopSignal"));
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Labels = ["=v"] }));
    }

    [Theory]
    [InlineData(null, null, "SIGTERM")]
    [InlineData("SIGQUIT", null, "SIGQUIT")]
    [InlineData("SIGQUIT", "TERM", "SIGTERM")]
    [InlineData(null, "9", "SIGKILL")]
    [InlineData(null, "sigusr1", "SIGUSR1")]
    [InlineData(null, "SIGRTMIN+3", "SIGRTMIN+3")]
    [InlineData("WINCH", null, "SIGWINCH")]
    public void Stop_signal_is_normalized(string? image, string? cli, string expected)
    {
        var r = _f.Build(new ImageConfig { Cmd = ["sh"], StopSignal = image }, new RunOptions { StopSignal = cli });
        Assert.Equal(expected, r.StopSignal);
        Assert.Equal(10, r.StopTimeout);
    }

    [Theory]
    [InlineData("SIGBOGUS")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("32")]
    public void Bad_stop_signals_are_errors(string signal)
        => Assert.Equal($"invalid signal: {signal}", Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { StopSignal = signal })).Message);

    [Fact]
    public void Stop_timeout_option()
        => Assert.Equal(3, _f.Build(options: new RunOptions { StopTimeout = 3 }).StopTimeout);

    [Theory]
    [InlineData("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("abc")]
    public void Container_id_must_be_64_lowercase_hex(string id)
    {
        var i = _f.Inputs();
        Assert.Throws<ContainerException>(() => BundleBuilder.Build(new BundleInputs { Image = i.Image, Options = i.Options, ContainerId = id, RootPath = i.RootPath, BundleDir = i.BundleDir }));
    }

    [Fact]
    public void A_missing_rootfs_is_an_error()
    {
        var i = _f.Inputs();
        Assert.Throws<ContainerException>(() => BundleBuilder.Build(new BundleInputs { Image = i.Image, Options = i.Options, ContainerId = i.ContainerId, RootPath = Path.Combine(_f.Dir, "nope"), BundleDir = i.BundleDir }));
    }

    [Fact]
    public void A_second_build_replaces_the_files()
    {
        _f.Build(options: new RunOptions { Hostname = "one1" });
        var r = _f.Build(options: new RunOptions { Hostname = "two2" });
        Assert.Equal("two2\n", File.ReadAllText(Path.Combine(_f.Bundle, "hostname")));
        Assert.Equal(r.ConfigJson, File.ReadAllBytes(Path.Combine(_f.Bundle, "config.json")));
        Assert.Equal(["config.json", "hostname", "hosts", "resolv.conf"], Directory.GetFiles(_f.Bundle).Select(Path.GetFileName).Order().ToList());
    }
}
