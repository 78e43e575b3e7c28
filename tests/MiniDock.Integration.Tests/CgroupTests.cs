using System.Globalization;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>cgroup v1 placement and limits from linux.cgroupsPath and linux.resources.</summary>
public sealed class CgroupTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] JoinedControllers = ["memory", "pids", "cpu", "devices"];

    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void Resources_AreWrittenToTheV1Controllers_AndRemovedOnDelete()
    {
        var b = _rt.NewBundle("cg").Args("sleep", "30");
        b.Resources["memory"] = new JsonObject { ["limit"] = 64L * 1024 * 1024 };
        b.Resources["pids"] = new JsonObject { ["limit"] = 32 };
        b.Resources["cpu"] = new JsonObject { ["quota"] = 20000, ["period"] = 100000, ["shares"] = 512 };
        var pid = _rt.CreateAndStart(b);

        Assert.Equal("67108864", Read("memory", b, "memory.limit_in_bytes"));
        Assert.Equal("32", Read("pids", b, "pids.max"));
        Assert.Equal("20000", Read("cpu", b, "cpu.cfs_quota_us"));
        Assert.Equal("100000", Read("cpu", b, "cpu.cfs_period_us"));
        Assert.Equal("512", Read("cpu", b, "cpu.shares"));
        var pidText = pid.ToString(CultureInfo.InvariantCulture);
        foreach (var controller in JoinedControllers)
        {
            Assert.Contains(pidText, Read(controller, b, "cgroup.procs").Split('\n'));
        }

        _rt.InvokeOk("delete", "--force", b.Id);
        foreach (var dir in RuntimeFixture.CgroupDirsFor(b.CgroupsPath))
        {
            Assert.False(Directory.Exists(dir), $"{dir} is left after delete");
        }
    }

    [Fact]
    public void ExecProcesses_JoinTheContainersCgroups()
    {
        var b = _rt.NewBundle("cgexec").Args("sleep", "30");
        _rt.CreateAndStart(b);
        var lines = _rt.ExecOk(b.Id, "cat", "/proc/self/cgroup").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var controller in new[] { "memory", "pids", "cpu" })
        {
            var line = lines.SingleOrDefault(l => l.Split(':')[1].Split(',').Contains(controller));
            Assert.True(line is not null, $"no {controller} line in /proc/self/cgroup: {string.Join('\n', lines)}");
            Assert.EndsWith(b.CgroupsPath, line);
        }
    }

    [Fact]
    public void PidsLimit_IsEnforced()
    {
        // pids.max 8: the shell plus at most 7 children, so the 8th background sleep cannot be forked.
        var b = _rt.NewBundle("cgpids").Sh("i=0; while [ $i -lt 12 ]; do sleep 5 & i=$((i+1)); done; echo spawned-all");
        b.Resources["pids"] = new JsonObject { ["limit"] = 8 };
        var r = _rt.RunForeground(b);
        Assert.DoesNotContain("spawned-all", r.Stdout);
        Assert.True(r.Stderr.Contains("can't fork", StringComparison.Ordinal), "expected busybox's fork failure: " + r.Describe());
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc resolves a relative cgroupsPath against its own cgroup.
    public void RelativeCgroupsPath_LandsUnderTheMinidockParent_NotTheCallersCgroup()
    {
        var b = _rt.NewBundle("cgrel").Args("sleep", "30");
        b.CgroupsPath = $"foo/{b.Id}";
        var own = File.ReadAllLines("/proc/self/cgroup")
            .Select(l => l.Split(':', 3))
            .Where(f => f.Length == 3)
            .ToDictionary(f => f[1], f => f[2]);
        foreach (var controller in Directory.EnumerateDirectories(RuntimeFixture.CgroupRoot).Select(Path.GetFileName))
        {
            _rt.RegisterCgroupDir(Path.Combine(RuntimeFixture.CgroupRoot, controller!, "minidock", "foo", b.Id));
            if (own.TryGetValue(controller!, out var mine) && mine != "/")
            {
                _rt.RegisterCgroupDir(Path.Combine(RuntimeFixture.CgroupRoot, controller!, mine.TrimStart('/'), "foo", b.Id));
            }
        }

        var pid = _rt.CreateAndStart(b);
        var expected = RuntimeFixture.CgroupDir("memory", $"/minidock/foo/{b.Id}");
        Assert.True(Directory.Exists(expected), $"{expected} does not exist");
        Assert.Contains(pid.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(Path.Combine(expected, "cgroup.procs")));
        var mineMemory = own.GetValueOrDefault("memory", "/");
        var wrong = RuntimeFixture.CgroupDir("memory", $"{mineMemory.TrimEnd('/')}/foo/{b.Id}");
        Assert.False(Directory.Exists(wrong), $"{wrong} was created below the test's own cgroup");

        _rt.InvokeOk("delete", "--force", b.Id);
        Assert.False(Directory.Exists(expected), $"{expected} is left after delete");
    }

    private static string Read(string controller, Bundle b, string file)
    {
        var path = Path.Combine(RuntimeFixture.CgroupDir(controller, b.CgroupsPath), file);
        Assert.True(File.Exists(path), $"{path} does not exist");
        return File.ReadAllText(path).Trim();
    }
}
