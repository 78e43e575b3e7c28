using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>linux.seccomp, compiled to BPF by the engine, holds inside a real container.</summary>
public sealed class SeccompTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    private static JsonObject Profile(string defaultAction, params JsonObject[] rules) => new()
    {
        ["defaultAction"] = defaultAction,
        ["architectures"] = new JsonArray("SCMP_ARCH_X86_64"),
        ["syscalls"] = new JsonArray(rules),
    };

    private static JsonObject Rule(string action, params string[] names) => new()
    {
        ["names"] = new JsonArray(names.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
        ["action"] = action,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_denied_syscall_fails_with_EPERM_and_the_rest_works(bool noNewPrivileges)
    {
        var b = _rt.NewBundle("seccomp-deny").Sh("mkdir /tmp/x 2>&1; echo rc=$?; echo still alive");
        b.Process["noNewPrivileges"] = noNewPrivileges;
        b.Linux["seccomp"] = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "mkdir", "mkdirat"));
        var output = _rt.RunToCompletion(b);
        Assert.Contains("Operation not permitted", output);
        Assert.Contains("rc=1", output);
        Assert.Contains("still alive", output);
    }

    [Fact]
    public void ErrnoRet_is_honoured()
    {
        var b = _rt.NewBundle("seccomp-errno").Sh("mkdir /tmp/x 2>&1; true");
        var rule = Rule("SCMP_ACT_ERRNO", "mkdir", "mkdirat");
        rule["errnoRet"] = 28; // ENOSPC
        b.Linux["seccomp"] = Profile("SCMP_ACT_ALLOW", rule);
        Assert.Contains("No space left on device", _rt.RunToCompletion(b));
    }

    [Fact]
    public void The_filter_is_reported_in_proc_status_of_init_and_exec()
    {
        var b = _rt.NewBundle("seccomp-status").Args("sleep", "30");
        b.Linux["seccomp"] = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "mkdir", "mkdirat"));
        _rt.CreateAndStart(b);
        Assert.Contains("Seccomp:\t2", _rt.ExecOk(b.Id, "cat", "/proc/1/status"));
        Assert.Contains("Seccomp:\t2", _rt.ExecOk(b.Id, "cat", "/proc/self/status"));

        // exec installs the program create compiled and kept in the state dir: its rules hold for the exec'd process.
        var mkdir = _rt.Exec(b.Id, "mkdir", "/tmp/refused");
        Assert.True(mkdir.ExitCode != 0, mkdir.Describe());
        Assert.Contains("Operation not permitted", mkdir.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_allowlist_with_an_errno_default_still_runs_busybox()
    {
        // A default-deny profile: only what sh + echo need is allowed, so everything else (mount) fails.
        string[] allowed =
        [
            "read", "write", "openat", "open", "close", "fstat", "newfstatat", "stat", "lstat", "mmap", "munmap", "mprotect", "brk",
            "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "ioctl", "execve", "exit", "exit_group", "getpid", "getppid",
            "getuid", "geteuid", "getgid", "getegid", "fcntl", "dup2", "dup3", "wait4", "clone", "fork", "vfork", "arch_prctl",
            "set_tid_address", "getcwd", "uname", "prlimit64", "getrlimit", "readlink", "access", "faccessat", "faccessat2",
            "statx", "lseek", "pipe", "pipe2", "sigaltstack", "getdents64", "setpgid", "getpgrp", "getpgid", "capget", "capset",
            "prctl", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "futex", "rseq", "set_robust_list", "getrandom",
            "madvise", "chdir", "umask", "poll", "ppoll", "select", "pselect6", "nanosleep", "clock_nanosleep",
        ];
        var b = _rt.NewBundle("seccomp-allow").Sh("echo hello; mount -t tmpfs none /tmp 2>&1; grep -c ' /tmp tmpfs' /proc/mounts; echo done");

        // CAP_SYS_ADMIN is granted, so only the filter can stop the mount.
        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            b.Process["capabilities"]![set]!.AsArray().Add("CAP_SYS_ADMIN");
        }

        b.Linux["seccomp"] = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", allowed));
        var output = _rt.RunToCompletion(b);
        Assert.Contains("hello", output);
        Assert.Contains("done", output);
        Assert.Contains("permission denied", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("\n0\n", output); // grep -c found no tmpfs on /tmp
    }
}
