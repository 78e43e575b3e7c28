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
