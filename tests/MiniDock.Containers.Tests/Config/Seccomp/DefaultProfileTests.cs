using MiniDock.Containers.Config;
using MiniDock.Containers.Config.Seccomp;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Tests.Security.Seccomp;

namespace MiniDock.Containers.Tests.Config.Seccomp;

/// <summary>
/// Docker's default profile, resolved for a capability set, compiled by the engine and run in the BPF interpreter:
/// what a container may call is checked on the program the kernel would get.
/// </summary>
public sealed class DefaultProfileTests
{
    private const uint Allow = BpfCompiler.RetAllow;
    private const uint EPerm = BpfCompiler.RetErrno | 1;
    private const uint ENoSys = BpfCompiler.RetErrno | 38;
    private const ulong CloneNewUser = 0x10000000;
    private const ulong CloneNewNs = 0x00020000;
    private const ulong SigChld = 17;

    private static readonly KernelVersion Kernel = new(6, 8);

    private static Func<string, ulong[], uint> Filter(params string[] capFlags)
    {
        var caps = CapabilityFlags.Resolve([.. capFlags], []);
        var spec = ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Default, null, false), caps, privileged: false, "amd64", Kernel)!;
        var program = SeccompFilter.Compile(spec).Program;
        return (name, args) =>
        {
            Assert.True(SyscallTable.TryGetNumber(name, out var nr), name);
            return BpfInterpreter.Run(program, SeccompData.Native(nr, args));
        };
    }

    [Theory]
    [InlineData("read")]
    [InlineData("execve")]
    [InlineData("capset")]
    [InlineData("setresuid")]
    [InlineData("arch_prctl")]
    [InlineData("chroot")] // CAP_SYS_CHROOT is one of Docker's defaults
    [InlineData("ptrace")] // from kernel 4.8 on, ptrace cannot bypass seccomp: Docker allows it without CAP_SYS_PTRACE
    [InlineData("process_vm_readv")]
    public void Everyday_calls_are_allowed(string name) => Assert.Equal(Allow, Filter()(name, []));

    [Theory]
    [InlineData("mount")]
    [InlineData("umount2")]
    [InlineData("unshare")]
    [InlineData("setns")]
    [InlineData("kcmp")]
    [InlineData("pidfd_getfd")]
    [InlineData("keyctl")]
    [InlineData("add_key")]
    [InlineData("kexec_load")]
    [InlineData("init_module")]
    [InlineData("reboot")]
    [InlineData("settimeofday")]
    [InlineData("bpf")]
    [InlineData("perf_event_open")]
    [InlineData("open_by_handle_at")]
    [InlineData("userfaultfd")]
    [InlineData("swapon")]
    public void Dangerous_calls_fail_with_EPERM_by_default(string name) => Assert.Equal(EPerm, Filter()(name, []));

    [Theory]
    [InlineData("SYS_ADMIN", "mount")]
    [InlineData("SYS_ADMIN", "unshare")]
    [InlineData("SYS_ADMIN", "setns")]
    [InlineData("SYS_ADMIN", "umount2")]
    [InlineData("SYS_PTRACE", "pidfd_getfd")]
    [InlineData("SYS_PTRACE", "process_madvise")]
    [InlineData("SYS_PTRACE", "kcmp")]
    [InlineData("SYS_MODULE", "finit_module")]
    [InlineData("SYS_BOOT", "reboot")]
    [InlineData("SYS_TIME", "clock_settime")]
    [InlineData("SYS_NICE", "mbind")]
    [InlineData("SYSLOG", "syslog")]
    [InlineData("SYS_RAWIO", "iopl")]
    [InlineData("SYS_PACCT", "acct")]
    [InlineData("SYS_TTY_CONFIG", "vhangup")]
    [InlineData("BPF", "bpf")]
    [InlineData("PERFMON", "perf_event_open")]
    [InlineData("DAC_READ_SEARCH", "open_by_handle_at")]
    public void A_capability_allows_its_calls_and_only_with_it(string cap, string name)
    {
        Assert.Equal(Allow, Filter(cap)(name, []));
        Assert.Equal(EPerm, Filter()(name, []));
    }

    [Fact]
    public void Sys_ptrace_does_not_allow_mount()
    {
        Assert.Equal(EPerm, Filter("SYS_PTRACE")("mount", []));
        Assert.Equal(EPerm, Filter("SYS_ADMIN")("kexec_load", []));
    }

    [Fact]
    public void Clone_without_sys_admin_is_allowed_only_without_namespace_flags()
    {
        var f = Filter();
        Assert.Equal(Allow, f("clone", [SigChld]));
        Assert.Equal(EPerm, f("clone", [SigChld | CloneNewUser]));
        Assert.Equal(EPerm, f("clone", [CloneNewNs]));

        var admin = Filter("SYS_ADMIN");
        Assert.Equal(Allow, admin("clone", [SigChld | CloneNewUser]));
    }

    [Fact]
    public void Clone3_is_ENOSYS_without_sys_admin_so_libc_falls_back_to_clone()
    {
        Assert.Equal(ENoSys, Filter()("clone3", []));
        Assert.Equal(Allow, Filter("SYS_ADMIN")("clone3", []));
    }

    [Fact]
    public void Socket_allows_every_family_but_alg_and_vsock()
    {
        var f = Filter();
        Assert.Equal(Allow, f("socket", [2])); // AF_INET
        Assert.Equal(Allow, f("socket", [1])); // AF_UNIX
        Assert.Equal(Allow, f("socket", [16])); // AF_NETLINK
        Assert.Equal(Allow, f("socket", [39])); // AF_NFC
        Assert.Equal(Allow, f("socket", [44])); // AF_XDP
        Assert.Equal(EPerm, f("socket", [38])); // AF_ALG
        Assert.Equal(EPerm, f("socket", [40])); // AF_VSOCK
    }

    [Fact]
    public void Personality_only_with_the_harmless_personas()
    {
        var f = Filter();
        foreach (var ok in new ulong[] { 0, 8, 0x20000, 0x20008, 0xffffffff })
        {
            Assert.Equal(Allow, f("personality", [ok]));
        }

        Assert.Equal(EPerm, f("personality", [0x0040000])); // ADDR_NO_RANDOMIZE
    }

    [Fact]
    public void Ptrace_needs_kernel_4_8_without_the_capability()
    {
        var caps = CapabilityFlags.Resolve([], []);
        var old = ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Default, null, false), caps, false, "amd64", new KernelVersion(4, 4))!;
        var recent = ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Default, null, false), caps, false, "amd64", new KernelVersion(4, 8))!;

        // Docker's kernel rule allows ptrace from 4.8 on; the capability rule (not held here) adds nothing.
        Assert.DoesNotContain(old.Syscalls!, s => s.Names.Contains("ptrace"));
        Assert.Contains(recent.Syscalls!, s => s.Names.Contains("ptrace") && s.Action == "SCMP_ACT_ALLOW");
    }

    [Fact]
    public void Resolved_for_amd64_it_lists_x86_64_with_its_subarchitectures_and_no_foreign_rules()
    {
        var spec = ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Default, null, false), CapabilityFlags.Resolve([], []), false, "amd64", Kernel)!;
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], spec.Architectures);
        Assert.Equal("SCMP_ACT_ERRNO", spec.DefaultAction);
        Assert.Equal(1u, spec.DefaultErrnoRet);
        Assert.DoesNotContain(spec.Syscalls!, s => s.Names.Contains("s390_runtime_instr") || s.Names.Contains("set_tls"));
        Assert.Contains(spec.Syscalls!, s => s.Names.SequenceEqual(["modify_ldt"]));
    }

    [Fact]
    public void Privileged_runs_unconfined_unless_a_profile_is_named()
    {
        var all = CapabilityFlags.Resolve([], [], privileged: true);
        Assert.Null(ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Default, null, false), all, true, "amd64", Kernel));
        Assert.NotNull(ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Builtin, null, false), all, true, "amd64", Kernel));
        Assert.Null(ContainerSeccomp.For(new SecurityOptions(false, SeccompMode.Unconfined, null, false), CapabilityFlags.Resolve([], []), false, "amd64", Kernel));
    }
}
