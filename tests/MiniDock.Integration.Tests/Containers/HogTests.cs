using System.Diagnostics;
using System.Globalization;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Hogs inside real containers meet the kernel's limits: a fork bomb under <c>--pids-limit</c> and a busy loop under
/// <c>--cpus</c>, checked in the host's own cgroup files of the container (not in anything MiniDock reports), and
/// the container is still removable afterwards. The memory hog lives in <see cref="OomTests"/>.
/// </summary>
public sealed class HogTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private int Pid(string name) => int.Parse(_cli.InspectFormat(name, "{{.State.Pid}}"), CultureInfo.InvariantCulture);

    [Fact]
    public void Fork_bomb_under_pids_limit_64_is_held_at_64_and_the_container_can_still_be_removed()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "bomb", "--pids-limit", "64", image, "sleep", "600");
        var dir = HostCgroup.Dir(Pid("bomb"), "pids");
        Assert.True(dir is not null, "the container has a pids cgroup");
        Assert.Equal("64", File.ReadAllText(Path.Combine(dir!, "pids.max")).Trim());

        // The classic bomb: every call forks two more, forever.
        _cli.Ok("exec", "-d", "bomb", "sh", "-c", "b(){ b | b & }; b");
        var most = 0L;
        CliContainerSupport.Eventually(() =>
        {
            most = Math.Max(most, long.Parse(File.ReadAllText(Path.Combine(dir!, "pids.current")), CultureInfo.InvariantCulture));
            return HostCgroup.Keyed(Path.Combine(dir!, "pids.events"), "max") > 0;
        }, "the kernel refused forks at the limit (pids.events max > 0)", () => File.ReadAllText(Path.Combine(dir!, "pids.events")));
        for (var i = 0; i < 10; i++)
        {
            most = Math.Max(most, long.Parse(File.ReadAllText(Path.Combine(dir!, "pids.current")), CultureInfo.InvariantCulture));
            Thread.Sleep(50);
        }

        Assert.True(most <= 64, $"pids.current stayed within the limit: saw {most}");
        Assert.True(most >= 32, $"the bomb really ran (pids.current reached {most})");

        // The host still forks, and rm -f stops the bomb (freeze, kill, thaw) and removes its cgroup.
        Assert.Equal(0, ProcessRunner.Run("/bin/true", [], TimeSpan.FromSeconds(10)).ExitCode);
        _cli.Ok("rm", "-f", "bomb");
        Assert.False(Directory.Exists(dir), $"{dir} is removed with the container");
    }

    [Fact]
    public void Cpu_hog_under_cpus_0_2_is_throttled_to_a_fifth_of_a_cpu()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "hog", "--cpus", "0.2", image, "sh", "-c", "while :; do :; done");
        var pid = Pid("hog");
        var cpu = HostCgroup.Dir(pid, "cpu");
        Assert.True(cpu is not null, "the container has a cpu cgroup");
        var v2 = File.Exists(Path.Combine(cpu!, "cpu.max"));
        if (v2)
        {
            Assert.Equal("20000 100000", File.ReadAllText(Path.Combine(cpu!, "cpu.max")).Trim());
        }
        else
        {
            Assert.Equal("20000", File.ReadAllText(Path.Combine(cpu!, "cpu.cfs_quota_us")).Trim());
            Assert.Equal("100000", File.ReadAllText(Path.Combine(cpu!, "cpu.cfs_period_us")).Trim());
        }

        // CPU time used over two seconds of wall time, from the kernel's accounting of the cgroup.
        long UsageNs() => v2
            ? HostCgroup.Keyed(Path.Combine(cpu!, "cpu.stat"), "usage_usec") * 1000
            : long.Parse(File.ReadAllText(Path.Combine(HostCgroup.Dir(pid, "cpuacct")!, "cpuacct.usage")), CultureInfo.InvariantCulture);
        Thread.Sleep(300);
        var u0 = UsageNs();
        var sw = Stopwatch.StartNew();
        Thread.Sleep(2000);
        var used = (UsageNs() - u0) / (double)(sw.Elapsed.TotalMilliseconds * 1e6);
        output.WriteLine($"the hog used {used:F3} of one CPU");
        Assert.True(used <= 0.3, $"the hog used {used:F3} of a CPU: more than its 0.2 quota allows");
        Assert.True(used >= 0.05, $"the hog ran at all ({used:F3} of a CPU)");
        Assert.True(HostCgroup.Keyed(Path.Combine(cpu!, "cpu.stat"), "nr_throttled") > 0, "cpu.stat counts throttled periods");
        _cli.Ok("rm", "-f", "hog");
    }
}
