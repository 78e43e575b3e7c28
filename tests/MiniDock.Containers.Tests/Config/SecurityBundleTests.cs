using MiniDock.Containers.Config;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

/// <summary>config.json's linux.seccomp, and what --privileged and systempaths=unconfined change in it.</summary>
public sealed class SecurityBundleTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Where --privileged finds "the host's" devices; null: the real /dev.</summary>
    private string? _devDir;

    private RuntimeSpec Build(RunOptions o)
    {
        var i = _f.Inputs(options: o);
        var r = BundleBuilder.Build(new BundleInputs
        {
            Image = i.Image, Options = i.Options, ContainerId = i.ContainerId, RootPath = i.RootPath, BundleDir = i.BundleDir,
            HostLimits = i.HostLimits, CallerEnv = i.CallerEnv, HostResolvConf = i.HostResolvConf, HostHostsFile = i.HostHostsFile,
            HostHostname = i.HostHostname, CgroupV2Only = false, CanRaiseHardLimits = false, CpuCount = 4,
            KernelVersion = new(6, 8), HostDevDir = _devDir,
        });
        var spec = SpecAssert.Parse(r);
        SpecValidator.Validate(spec, _f.Bundle);
        return spec;
    }

    [Fact]
    public void Default_profile_is_written_with_its_capability_rules_resolved()
    {
        var s = Build(new RunOptions()).Linux!.Seccomp!;
        Assert.Equal("SCMP_ACT_ERRNO", s.DefaultAction);
        Assert.Equal(1u, s.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], s.Architectures);
        Assert.DoesNotContain(s.Syscalls!, c => c.Names.Contains("mount"));
        var clone = Assert.Single(s.Syscalls!, c => c.Names.SequenceEqual(["clone"]));
        var arg = Assert.Single(clone.Args!);
        Assert.Equal((0u, 0x7E020000ul, 0ul, "SCMP_CMP_MASKED_EQ"), (arg.Index, arg.Value, arg.ValueTwo, arg.Op));
        Assert.Contains(s.Syscalls!, c => c.Names.SequenceEqual(["clone3"]) && c.Action == "SCMP_ACT_ERRNO" && c.ErrnoRet == 38);

        var admin = Build(new RunOptions { CapAdd = ["SYS_ADMIN"] }).Linux!.Seccomp!;
        Assert.Contains(admin.Syscalls!, c => c.Names.Contains("mount") && c.Action == "SCMP_ACT_ALLOW");
        Assert.DoesNotContain(admin.Syscalls!, c => c.Names.SequenceEqual(["clone3"]));

        // Dropping a default capability drops what it allowed.
        Assert.DoesNotContain(Build(new RunOptions { CapDrop = ["SYS_CHROOT"] }).Linux!.Seccomp!.Syscalls!, c => c.Names.Contains("chroot"));
    }

    [Fact]
    public void Unconfined_writes_no_seccomp_and_a_custom_profile_is_written_as_resolved()
    {
        Assert.Null(Build(new RunOptions { SecurityOpts = ["seccomp=unconfined"] }).Linux!.Seccomp);

        var s = Build(new RunOptions
        {
            SecurityOpts = ["""seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"mkdir","action":"SCMP_ACT_ERRNO","errnoRet":13},{"names":["mount"],"action":"SCMP_ACT_ERRNO","excludes":{"caps":["CAP_SYS_ADMIN"]}}]}"""],
        }).Linux!.Seccomp!;
        Assert.Equal("SCMP_ACT_ALLOW", s.DefaultAction);
        Assert.Null(s.DefaultErrnoRet);
        Assert.Empty(s.Architectures!);
        var mkdir = Assert.Single(s.Syscalls!, c => c.Names.SequenceEqual(["mkdir"]));
        Assert.Equal(13u, mkdir.ErrnoRet);
        Assert.Contains(s.Syscalls!, c => c.Names.SequenceEqual(["mount"]));
    }

    [Fact]
    public void Privileged_has_all_caps_no_seccomp_no_masks_writable_sys_and_the_hosts_devices()
    {
        _devDir = Directory.CreateDirectory(Path.Combine(_f.Dir, "fake-dev")).FullName;
        var spec = Build(new RunOptions { Privileged = true, ReadOnly = true });
        var linux = spec.Linux!;

        Assert.Contains("CAP_SYS_ADMIN", spec.Process!.Capabilities!.Bounding!);
        Assert.Contains("CAP_SYS_MODULE", spec.Process.Capabilities.Effective!);
        Assert.False(spec.Process.NoNewPrivileges);
        Assert.Null(linux.Seccomp);
        Assert.Empty(linux.MaskedPaths!);
        Assert.Empty(linux.ReadonlyPaths!);
        Assert.DoesNotContain("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
        Assert.DoesNotContain("ro", spec.Mounts!.Single(m => m.Destination == "/sys/fs/cgroup").Options!);
        var rule = Assert.Single(linux.Resources!.Devices!);
        Assert.True(rule.Allow);
        Assert.Null(rule.Type);
        Assert.Equal("rwm", rule.Access);
    }

    [Fact]
    public void Privileged_devices_are_the_hosts_char_and_block_nodes_without_pts_and_console()
    {
        // The real /dev: its nodes are what a privileged container gets.
        var spec = Build(new RunOptions { Privileged = true });
        var devices = spec.Linux!.Devices!;
        var nullDev = Assert.Single(devices, d => d.Path == "/dev/null");
        Assert.Equal(("c", 1L, 3L), (nullDev.Type, nullDev.Major, nullDev.Minor));
        Assert.Equal(0x1b6u, nullDev.FileMode); // 0666
        Assert.DoesNotContain(devices, d => d.Path.StartsWith("/dev/pts/", StringComparison.Ordinal) || d.Path == "/dev/console");
        Assert.DoesNotContain(devices, d => d.Type is not ("c" or "b"));
        if (File.Exists("/dev/loop0"))
        {
            Assert.Contains(devices, d => d.Path == "/dev/loop0" && d.Type == "b");
        }

        // Without --privileged: none, and the default device cgroup.
        var plain = Build(new RunOptions());
        Assert.Null(plain.Linux!.Devices);
        Assert.False(plain.Linux.Resources!.Devices![0].Allow);
    }

    [Fact]
    public void Privileged_keeps_no_new_privileges_when_asked_and_a_named_profile()
    {
        var spec = Build(new RunOptions { Privileged = true, SecurityOpts = ["no-new-privileges", "seccomp=builtin"] });
        Assert.True(spec.Process!.NoNewPrivileges);
        Assert.Contains(spec.Linux!.Seccomp!.Syscalls!, c => c.Names.Contains("mount")); // resolved with all caps
    }

    [Fact]
    public void Systempaths_unconfined_clears_masked_and_readonly_paths_only()
    {
        var spec = Build(new RunOptions { SecurityOpts = ["systempaths=unconfined"] });
        Assert.Empty(spec.Linux!.MaskedPaths!);
        Assert.Empty(spec.Linux.ReadonlyPaths!);
        Assert.NotNull(spec.Linux.Seccomp);
        Assert.Contains("ro", spec.Mounts!.Single(m => m.Destination == "/sys").Options!);
    }
}
