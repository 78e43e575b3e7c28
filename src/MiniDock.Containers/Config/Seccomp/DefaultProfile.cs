namespace MiniDock.Containers.Config.Seccomp;

/// <summary>
/// Docker's default seccomp profile (moby's profiles/seccomp/default.json, https://docs.docker.com/engine/security/seccomp/),
/// restated rule for rule so that a program behaves the same under MiniDock as under Docker: every call not listed
/// fails with EPERM; the rules after the plain allowlist depend on the container's capabilities (a capability that
/// makes a call safe to use also lets the profile allow it, e.g. <c>--cap-add SYS_ADMIN</c> allows mount), the host's
/// architecture and its kernel. <see cref="ProfileResolver"/> resolves them per container. Built as code, not parsed
/// from JSON, because every <c>run</c> needs it and parsing would cost more than the container's start.
/// </summary>
internal static class DefaultProfile
{
    private const string Allow = "SCMP_ACT_ALLOW";

    /// <summary>
    /// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET:
    /// without CAP_SYS_ADMIN, clone(2) is allowed only with none of these flags (a masked-EQ against 0).
    /// </summary>
    public const ulong NamespaceFlags = 0x7E020000;

    /// <summary>AF_ALG and AF_VSOCK: socket(2) is allowed for every family but these two (38 and 40).</summary>
    public const ulong AfAlg = 38;

    public const ulong AfVsock = 40;

    /// <summary>The calls every container may make, whatever its capabilities.</summary>
    public static readonly string[] Allowed =
    [
        "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
        "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
        "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
        "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
        "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit",
        "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
        "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
        "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
        "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
        "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
        "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
        "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
        "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
        "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
        "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
        "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
        "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
        "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
        "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
        "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
        "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
        "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
        "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64",
        "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
        "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
        "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
        "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
        "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
        "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
        "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
        "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
        "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
        "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
        "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
        "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt",
        "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
        "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat",
        "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
        "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
        "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
        "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
        "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev",
    ];

    public static SeccompProfile Profile { get; } = new()
    {
        DefaultAction = "SCMP_ACT_ERRNO",
        DefaultErrnoRet = 1, // EPERM
        ArchMap =
        [
            new("SCMP_ARCH_X86_64", ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            new("SCMP_ARCH_AARCH64", ["SCMP_ARCH_ARM"]),
            new("SCMP_ARCH_MIPS64", ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"]),
            new("SCMP_ARCH_MIPS64N32", ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"]),
            new("SCMP_ARCH_MIPSEL64", ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"]),
            new("SCMP_ARCH_MIPSEL64N32", ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"]),
            new("SCMP_ARCH_S390X", ["SCMP_ARCH_S390"]),
            new("SCMP_ARCH_RISCV64", []),
            new("SCMP_ARCH_LOONGARCH64", []),
        ],
        Syscalls =
        [
            Rule(Allowed),

            // ptrace could bypass seccomp before 4.8 (a tracer could change a call after the filter ran).
            Rule(["process_vm_readv", "process_vm_writev", "ptrace"], includes: new() { MinKernel = new KernelVersion(4, 8) }),

            // socket: every address family but AF_ALG (kernel crypto) and AF_VSOCK (host/VM sockets).
            Rule(["socket"], args: [new(0, AfAlg, 0, "SCMP_CMP_LT")]),
            Rule(["socket"], args: [new(0, AfAlg + 1, 0, "SCMP_CMP_EQ")]),
            Rule(["socket"], args: [new(0, AfVsock, 0, "SCMP_CMP_GT")]),

            // personality: only PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000), PER_LINUX32|UNAME26, and the query 0xffffffff.
            Rule(["personality"], args: [new(0, 0x0, 0, "SCMP_CMP_EQ")]),
            Rule(["personality"], args: [new(0, 0x8, 0, "SCMP_CMP_EQ")]),
            Rule(["personality"], args: [new(0, 0x20000, 0, "SCMP_CMP_EQ")]),
            Rule(["personality"], args: [new(0, 0x20008, 0, "SCMP_CMP_EQ")]),
            Rule(["personality"], args: [new(0, 0xffffffff, 0, "SCMP_CMP_EQ")]),

            // Architecture-specific calls.
            Rule(["sync_file_range2", "swapcontext"], includes: new() { Arches = ["ppc64le"] }),
            Rule(["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"], includes: new() { Arches = ["arm", "arm64"] }),
            Rule(["arch_prctl"], includes: new() { Arches = ["amd64", "x32"] }),
            Rule(["modify_ldt"], includes: new() { Arches = ["amd64", "x32", "x86"] }),
            Rule(["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], includes: new() { Arches = ["s390", "s390x"] }),
            Rule(["riscv_flush_icache"], includes: new() { Arches = ["riscv64"] }),

            // Calls a capability makes legitimate.
            Rule(["open_by_handle_at"], includes: Cap("CAP_DAC_READ_SEARCH")),
            Rule(
                [
                    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
                    "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
                    "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
                    "syslog", "umount", "umount2", "unshare",
                ],
                includes: Cap("CAP_SYS_ADMIN")),

            // Without CAP_SYS_ADMIN: clone without namespace flags only (s390 swaps clone's first two arguments);
            // clone3 fails with ENOSYS, because its flags live in memory a filter cannot read, and ENOSYS makes
            // glibc fall back to clone.
            Rule(["clone"], args: [new(0, NamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")], excludes: new() { Caps = ["CAP_SYS_ADMIN"], Arches = ["s390", "s390x"] }),
            Rule(["clone"], args: [new(1, NamespaceFlags, 0, "SCMP_CMP_MASKED_EQ")], includes: new() { Arches = ["s390", "s390x"] }, excludes: Cap("CAP_SYS_ADMIN")),
            new() { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 38 /* ENOSYS */, Excludes = Cap("CAP_SYS_ADMIN") },

            Rule(["reboot"], includes: Cap("CAP_SYS_BOOT")),
            Rule(["chroot"], includes: Cap("CAP_SYS_CHROOT")),
            Rule(["delete_module", "init_module", "finit_module"], includes: Cap("CAP_SYS_MODULE")),
            Rule(["acct"], includes: Cap("CAP_SYS_PACCT")),
            Rule(["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"], includes: Cap("CAP_SYS_PTRACE")),
            Rule(["iopl", "ioperm"], includes: Cap("CAP_SYS_RAWIO")),
            Rule(["settimeofday", "stime", "clock_settime", "clock_settime64"], includes: Cap("CAP_SYS_TIME")),
            Rule(["vhangup"], includes: Cap("CAP_SYS_TTY_CONFIG")),
            Rule(["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"], includes: Cap("CAP_SYS_NICE")),
            Rule(["syslog"], includes: Cap("CAP_SYSLOG")),
            Rule(["bpf"], includes: Cap("CAP_BPF")),
            Rule(["perf_event_open"], includes: Cap("CAP_PERFMON")),
        ],
    };

    private static ProfileSyscall Rule(string[] names, ProfileArg[]? args = null, ProfileFilter? includes = null, ProfileFilter? excludes = null)
        => new() { Names = names, Action = Allow, Args = args ?? [], Includes = includes, Excludes = excludes };

    private static ProfileFilter Cap(string capability) => new() { Caps = [capability] };
}
