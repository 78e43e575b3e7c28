using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Attacks from inside a real container under Docker's defaults (seccomp profile, capabilities, masked and read-only
/// /proc paths, device cgroup) fail; <c>--security-opt seccomp=...</c> changes exactly the filter. Where a call fails
/// for want of a capability as much as for the filter, a second run shows which one stopped it.
/// </summary>
public sealed class DefaultSeccompTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const int EPerm = 1;
    private const int ENoSys = 38;

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private CommandResult Sh(string script, params string[] flags) => _cli.Run(["run", "--rm", .. flags, _cli.Pulled(sandbox), "sh", "-c", script]);

    private ProcStatus Status(params string[] flags) => new(_cli.Ok(["run", "--rm", .. flags, _cli.Pulled(sandbox), "cat", "/proc/self/status"]).Stdout);

    private Dictionary<string, int> Probe(params string[] flags)
    {
        var r = _cli.Ok(["run", "--rm", "-v", SyscallProbe.Dir + ":" + SyscallProbe.MountPoint + ":ro", .. flags, _cli.Pulled(sandbox), SyscallProbe.Path]);
        return SyscallProbe.Parse(r.Stdout);
    }

    [Fact]
    public void Every_container_runs_under_one_filter_unless_unconfined()
    {
        var s = Status();
        Assert.Equal("2", s["Seccomp"]); // SECCOMP_MODE_FILTER
        Assert.Equal("1", s["Seccomp_filters"]);
        Assert.Equal("0", Status("--security-opt", "seccomp=unconfined")["Seccomp"]);
        Assert.Equal("2", Status("--security-opt", "seccomp:builtin", "--init")["Seccomp"]);
    }

    [Fact]
    public void Mount_fails_by_default_and_works_with_cap_sys_admin_which_the_profile_then_allows()
    {
        var denied = Sh("mkdir -p /mnt && mount -t tmpfs none /mnt");
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("permission denied", denied.Stderr, StringComparison.Ordinal); // busybox's words for EPERM

        // Docker's profile allows mount(2) once the container holds CAP_SYS_ADMIN (no AppArmor here to stop it).
        var r = Sh("mkdir -p /mnt && mount -t tmpfs none /mnt && grep ' /mnt ' /proc/mounts", "--cap-add", "SYS_ADMIN");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Contains("none /mnt tmpfs", r.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, Sh("mkdir -p /mnt && mount -t tmpfs none /mnt", "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined").ExitCode);
    }

    [Fact]
    public void The_filter_refuses_what_even_every_capability_would_allow()
    {
        // pivot_root is not in Docker's allowlist for any capability: with all of them it is still EPERM, and
        // without the filter the same call reaches the kernel, which rejects the bogus arguments (EINVAL or EBUSY).
        const string script = "mkdir -p /tmp/old && pivot_root /tmp /tmp/old";
        var filtered = Sh(script, "--cap-add", "ALL");
        Assert.NotEqual(0, filtered.ExitCode);
        Assert.Contains("Operation not permitted", filtered.Stderr, StringComparison.Ordinal);
        var unfiltered = Sh(script, "--cap-add", "ALL", "--security-opt", "seccomp=unconfined");
        Assert.NotEqual(0, unfiltered.ExitCode);
        Assert.Contains("pivot_root", unfiltered.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Operation not permitted", unfiltered.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unshare_of_user_and_mount_namespaces_fails()
    {
        foreach (var ns in new[] { "-U", "-m" })
        {
            var r = Sh($"unshare {ns} true");
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("Operation not permitted", r.Stderr, StringComparison.Ordinal);
        }

        // A user namespace needs no capability: only the filter stopped it.
        var unconfined = Sh("unshare -U true", "--security-opt", "seccomp=unconfined");
        Assert.True(unconfined.ExitCode == 0, unconfined.Describe());
    }

    [Fact]
    public void Syscalls_busybox_cannot_make_are_refused_as_Docker_refuses_them()
    {
        var p = Probe();
        Assert.Equal(EPerm, p["keyctl"]);
        Assert.Equal(ENoSys, p["clone3"]); // so that libc falls back to clone, whose flags the filter can see
        Assert.Equal(0, p["clone"]);
        Assert.Equal(EPerm, p["clone_newuser"]);
        Assert.Equal(EPerm, p["socket_vsock"]);
        Assert.Equal(0, p["socket_unix"]);
        Assert.Equal(0, p["personality_query"]);
        Assert.Equal(EPerm, p["personality_no_randomize"]);
        Assert.Equal(0, p["ptrace_traceme"]); // allowed from kernel 4.8 on, as in Docker
        Assert.Equal(EPerm, p["unshare_user"]);

        // Unconfined, none of these is EPERM for want of a capability: it was the filter.
        var u = Probe("--security-opt", "seccomp=unconfined");
        Assert.NotEqual(EPerm, u["keyctl"]);
        Assert.NotEqual(ENoSys, u["clone3"]);
        Assert.Equal(0, u["clone_newuser"]);
        Assert.NotEqual(EPerm, u["socket_vsock"]);
        Assert.Equal(0, u["personality_no_randomize"]);
    }

    [Fact]
    public void A_device_node_may_be_made_but_not_opened_outside_the_allowed_list()
    {
        var r = Sh("mknod /dev/loopx b 7 0 && head -c 1 /dev/loopx");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Operation not permitted", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, Sh("mknod /dev/nullx c 1 3 && head -c 1 /dev/nullx").ExitCode);
    }

    [Fact]
    public void Proc_sys_and_sysrq_trigger_are_read_only()
    {
        // Both writes would be harmless if they got through (a UTS-namespaced name, sysrq's help text).
        var sys = Sh("echo evil > /proc/sys/kernel/domainname");
        Assert.NotEqual(0, sys.ExitCode);
        Assert.Contains("Read-only file system", sys.Stderr, StringComparison.Ordinal);
        var sysrq = Sh("echo h > /proc/sysrq-trigger");
        Assert.NotEqual(0, sysrq.ExitCode);
        if (File.Exists("/proc/sysrq-trigger")) // absent on kernels built without CONFIG_MAGIC_SYSRQ
        {
            Assert.Contains("Read-only file system", sysrq.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal("0", Sh("wc -c < /proc/interrupts").Stdout.Trim()); // masked with /dev/null
    }

    [Fact]
    public void A_custom_profile_denying_mkdir_with_errnoRet_makes_mkdir_fail_with_that_errno()
    {
        var dir = RegistryImages.ProcessTempDir("minidock-profile-");
        var profile = Path.Combine(dir, "no-mkdir.json");
        File.WriteAllText(profile, """
            {
              "defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [
                { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "EACCES" }
              ]
            }
            """);
        var r = Sh("mkdir /tmp/x", "--security-opt", "seccomp=" + profile);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Permission denied", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, Sh("mkdir /tmp/x").ExitCode);

        // The profile was read once, at create: start uses the copy the container keeps.
        _cli.Ok("create", "--name", "nomkdir", "--security-opt", "seccomp:" + profile, _cli.Pulled(sandbox), "mkdir", "/tmp/y");
        File.Delete(profile);
        var started = _cli.Run("start", "-a", "nomkdir");
        Assert.NotEqual(0, started.ExitCode);
        Assert.Contains("Permission denied", started.Stdout + started.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_profiles_and_options_are_one_line_and_125_before_anything_is_created()
    {
        var image = _cli.Pulled(sandbox);
        var dir = RegistryImages.ProcessTempDir("minidock-profile-");
        var bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{ \"defaultAction\": ");
        var unknown = Path.Combine(dir, "unknown.json");
        File.WriteAllText(unknown, """{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_EXPLODE" } ] }""");

        Assert.Contains("seccomp profile", _cli.Fails125("run", "--rm", "--security-opt", "seccomp=" + Path.Combine(dir, "missing.json"), image, "true"), StringComparison.Ordinal);
        Assert.Contains("seccomp profile", _cli.Fails125("run", "--rm", "--security-opt", "seccomp=" + bad, image, "true"), StringComparison.Ordinal);
        Assert.Contains("SCMP_ACT_EXPLODE", _cli.Fails125("create", "--name", "never", "--security-opt", "seccomp=" + unknown, image, "true"), StringComparison.Ordinal);
        Assert.Contains("SELinux", _cli.Fails125("run", "--rm", "--security-opt", "label=type:spc_t", image, "true"), StringComparison.Ordinal);
        Assert.Equal("", _cli.Ok("ps", "-aq").Stdout.Trim());

        _cli.Ok("run", "--rm", "--security-opt", "apparmor=unconfined", "--security-opt", "label=disable", image, "true");
    }
}
