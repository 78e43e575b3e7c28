using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// A tiny static C program that makes the calls busybox has no applet for (keyctl, clone3, clone with
/// CLONE_NEWUSER, socket(AF_VSOCK), personality, ptrace, unshare(CLONE_NEWUSER)) and prints <c>name=errno</c> for
/// each (0: it worked). Compiled once per test run with <c>gcc -static</c> (make test installs gcc) into a directory
/// that tests bind-mount into the busybox sandbox at <see cref="MountPoint"/>.
/// </summary>
public static class SyscallProbe
{
    public const string MountPoint = "/probe";

    public const string Path = MountPoint + "/probe";

    private const string Source = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <sched.h>
        #include <signal.h>
        #include <stdio.h>
        #include <sys/ptrace.h>
        #include <sys/socket.h>
        #include <sys/syscall.h>
        #include <sys/wait.h>
        #include <unistd.h>

        static void report(const char *name, long rc) { printf("%s=%d\n", name, rc < 0 ? errno : 0); fflush(stdout); }

        static long fork_with(unsigned long flags) {
            long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
            if (pid == 0) _exit(0);
            if (pid > 0) waitpid((pid_t)pid, 0, 0);
            return pid;
        }

        int main(void) {
            report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
            report("clone3", syscall(SYS_clone3, 0, 0));
            report("clone", fork_with(0));
            report("clone_newuser", fork_with(CLONE_NEWUSER));
            long s = syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
            report("socket_vsock", s);
            s = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
            report("socket_unix", s);
            report("personality_query", syscall(SYS_personality, 0xffffffffUL));
            report("personality_no_randomize", syscall(SYS_personality, 0x0040000UL));
            long child = fork();
            if (child == 0) { report("ptrace_traceme", syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0)); _exit(0); }
            waitpid((pid_t)child, 0, 0);
            report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
            return 0;
        }
        """;

    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The host directory holding the compiled probe (bind it at <see cref="MountPoint"/>).</summary>
    public static string Dir => Built.Value;

    /// <summary>The probe's <c>name=errno</c> lines.</summary>
    public static Dictionary<string, int> Parse(string stdout)
        => stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2 && int.TryParse(p[1], out _))
            .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));

    private static string Build()
    {
        var gcc = new[] { "/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("this test compiles a static syscall probe and needs gcc (make test installs it: apt-get install gcc libc6-dev)");
        var dir = RegistryImages.ProcessTempDir("minidock-probe-");
        var src = System.IO.Path.Combine(dir, "probe.c");
        File.WriteAllText(src, Source);
        var r = ProcessRunner.Run(gcc, ["-static", "-O1", "-o", System.IO.Path.Combine(dir, "probe"), src], TimeSpan.FromSeconds(60));
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("gcc -static failed (is libc6-dev installed?): " + r.Describe());
        }

        File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("755", 8));
        return dir;
    }
}
