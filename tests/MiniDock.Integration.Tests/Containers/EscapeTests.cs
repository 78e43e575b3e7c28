using System.Globalization;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// What a process inside a container (its init, or one added by <c>exec</c>) can see and hold of the host:
/// no host PIDs, no host mounts, and no file descriptor of ours beyond stdio (the CVE-2024-21626 class:
/// a leaked host directory fd is a way out of the rootfs).
/// </summary>
public sealed class EscapeTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private int Pid(string name) => int.Parse(_cli.InspectFormat(name, "{{.State.Pid}}"), CultureInfo.InvariantCulture);

    [Fact]
    public void An_execd_process_sees_only_the_containers_pids()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "pids", image, "sleep", "600");
        var pids = _cli.Ok("exec", "pids", "sh", "-c", "cd /proc && echo [0-9]*").Stdout.Trim().Split(' ').Select(int.Parse).ToList();

        // sleep (1), the exec'd sh; nothing else, and no number from the host's much larger space.
        Assert.Contains(1, pids);
        Assert.True(pids.Count <= 3, "only the container's own processes: " + string.Join(' ', pids));
        Assert.Equal("sleep\0" + "600\0", _cli.Ok("exec", "pids", "cat", "/proc/1/cmdline").Stdout);
        Assert.DoesNotContain(Environment.ProcessId, pids.Where(p => p > 3));
    }

    [Fact]
    public void An_execd_process_sees_only_the_containers_mounts()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "mnts", image, "sleep", "600");
        var points = _cli.Ok("exec", "mnts", "cat", "/proc/self/mountinfo").Stdout.Lines().Select(l => l.Split(' ')[4]).ToList();
        string[] allowed = ["/proc", "/dev", "/sys", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
        var foreign = points.Where(p => p != "/" && !allowed.Any(a => p == a || p.StartsWith(a + "/", StringComparison.Ordinal))).ToList();
        Assert.True(foreign.Count == 0, "mount points that are not the container's: " + string.Join(", ", foreign));
        Assert.Single(points, p => p == "/");

        // And the host's own mounts of this test (MiniDock's data root, the overlay) are not among them.
        Assert.DoesNotContain(points, p => p.StartsWith(_cli.Dir, StringComparison.Ordinal));
    }

    [Fact]
    public void Neither_the_init_nor_an_execd_process_holds_a_descriptor_above_2()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "fds", image, "sleep", "600");
        var init = Pid("fds");
        Assert.Equal(["0", "1", "2"], Fds(init));

        _cli.Ok("exec", "-d", "fds", "sleep", "601");
        int? execd = null;
        CliContainerSupport.Eventually(() => (execd = FindProcess("sleep\0" + "601\0")) is not null, "the exec'd sleep runs", () => "");
        Assert.Equal(["0", "1", "2"], Fds(execd!.Value));

        // A foreground run's process (its owner is the CLI itself, not a monitor).
        using var fg = _cli.Start("run", "--rm", "--name", "fg", image, "sleep", "602");
        int? fgPid = null;
        CliContainerSupport.Eventually(() => (fgPid = FindProcess("sleep\0" + "602\0")) is not null, "the foreground sleep runs", () => "");
        Assert.Equal(["0", "1", "2"], Fds(fgPid!.Value));
        _cli.Ok("kill", "fg"); // SIGKILL: sleep as PID 1 ignores SIGTERM, as in Docker
        Assert.Equal(137, fg.Wait(TimeSpan.FromSeconds(30)).ExitCode);
    }

    /// <summary>
    /// CVE-2019-5736: a container whose program is <c>/proc/self/exe</c>, or an exec'd <c>#!/proc/self/exe</c> script,
    /// makes the kernel run MiniDock's own binary inside the container; another container process must then not be
    /// able to write to it through <c>/proc/PID/exe</c>. O_TRUNC asks for write access to the mount before the file's
    /// ETXTBSY, so "Read-only file system" proves the binary is reached only through a read-only mount, not merely
    /// busy while it runs (after which the write would go through).
    /// </summary>
    [Fact]
    public void The_minidock_binary_run_inside_a_container_cannot_be_written_through_proc_exe()
    {
        var image = _cli.Pulled(sandbox);
        var hostBinary = File.ReadAllBytes(MinidockCli.Binary);

        // The sandbox image is static busybox: lend it the host's loader and libc, read-only, so that our binary runs in it.
        string[] libs = [.. new[] { "/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu" }.Where(Directory.Exists).SelectMany(d => new[] { "-v", $"{d}:{d}:ro" })];
        _cli.RunDetached([.. libs, "-i", "--name", "cve", image, "/proc/self/exe", "login", "-u", "x", "--password-stdin", "127.0.0.1:1"]);
        Assert.Equal("exe", _cli.Ok("exec", "cve", "cat", "/proc/1/comm").Stdout.Trim());
        var pid1 = _cli.Run("exec", "cve", "sh", "-c", "echo pwned > /proc/1/exe");
        Assert.NotEqual(0, pid1.ExitCode);
        Assert.Contains("Read-only file system", pid1.Stderr, StringComparison.Ordinal);

        // exec of a #!/proc/self/exe script: the interpreter the kernel runs is the exec shim's read-only copy.
        var script = Path.Combine(_cli.Dir, "evil");
        File.WriteAllText(script, "#!/proc/self/exe login\n"); // argv: /proc/self/exe login /evil ARGS...
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        _cli.Ok("cp", script, "cve:/evil");
        // login --password-stdin waits for its stdin: a pipe that sleep holds open keeps the process there.
        using var evilExec = new RunningCommand("/bin/sh", ["-c", "sleep 20 | \"$MINIDOCK\" exec -i cve /evil -u y --password-stdin"], _cli.ShellEnv(), _cli.Dir);
        var evil = _cli.Run("exec", "cve", "sh", "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10; do for p in /proc/[0-9]*; do case \"$(tr '\\0' ' ' < $p/cmdline)\" in '/proc/self/exe login /evil '*) echo pwned > $p/exe; exit $?;; esac; done; sleep 0.2; done; echo 'no /evil process' >&2; exit 99");
        Assert.True(evil.ExitCode is not 0 and not 99, evil.Describe());
        Assert.Contains("Read-only file system", evil.Stderr, StringComparison.Ordinal);

        _cli.Ok("rm", "-f", "cve");
        Assert.True(hostBinary.AsSpan().SequenceEqual(File.ReadAllBytes(MinidockCli.Binary)), "the host binary is unchanged");
    }

    private static string[] Fds(int pid) =>
        [.. Directory.GetFileSystemEntries($"/proc/{pid}/fd").Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(f => f!)];

    private static int? FindProcess(string cmdline)
    {
        foreach (var d in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(d), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(d, "cmdline")) == cmdline)
                    {
                        return pid;
                    }
                }
                catch (IOException)
                {
                }
            }
        }

        return null;
    }
}
