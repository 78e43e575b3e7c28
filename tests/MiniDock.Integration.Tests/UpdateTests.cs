using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>
/// runc's <c>update</c> on a live container: the new limits land in the v1 controller files (memory and memsw in
/// an order the kernel accepts, raising and lowering), are enforced, and are kept in the container's state.
/// </summary>
public sealed class UpdateTests(ITestOutputHelper output) : IDisposable
{
    private const long Mib = 1024 * 1024;

    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    private static string Read(string controller, Bundle b, string file) => File.ReadAllText(Path.Combine(RuntimeFixture.CgroupDir(controller, b.CgroupsPath), file)).Trim();

    private static bool HasMemsw(Bundle b) => File.Exists(Path.Combine(RuntimeFixture.CgroupDir("memory", b.CgroupsPath), "memory.memsw.limit_in_bytes"));

    [Fact]
    public void Memory_and_swap_can_be_raised_past_the_old_memsw_limit_and_lowered_again()
    {
        var b = _rt.NewBundle("upmem").Args("sleep", "60");
        b.Resources["memory"] = new JsonObject { ["limit"] = 64 * Mib, ["swap"] = 128 * Mib };
        _rt.CreateAndStart(b);
        Assert.Equal((64 * Mib).ToString(), Read("memory", b, "memory.limit_in_bytes"));

        // Raising the limit above the current memsw (128m) only works when memsw is written first.
        _rt.InvokeOk("update", "--memory", "256m", "--memory-swap", "512m", b.Id);
        Assert.Equal((256 * Mib).ToString(), Read("memory", b, "memory.limit_in_bytes"));
        if (HasMemsw(b))
        {
            Assert.Equal((512 * Mib).ToString(), Read("memory", b, "memory.memsw.limit_in_bytes"));
        }

        // Lowering both: memory first, or memsw would drop below it.
        _rt.InvokeOk("update", "--memory", "32m", "--memory-swap", "48m", b.Id);
        Assert.Equal((32 * Mib).ToString(), Read("memory", b, "memory.limit_in_bytes"));
        if (HasMemsw(b))
        {
            Assert.Equal((48 * Mib).ToString(), Read("memory", b, "memory.memsw.limit_in_bytes"));
        }

        // A memory limit above the memsw limit, with no new swap, is the kernel's refusal, said in one line.
        var bad = _rt.Invoke("update", "--memory", "100m", b.Id);
        if (HasMemsw(b))
        {
            Assert.True(bad.ExitCode == 1, bad.Describe());
            Assert.Contains("memory+swap", bad.Stderr, StringComparison.Ordinal);
            Assert.Equal((32 * Mib).ToString(), Read("memory", b, "memory.limit_in_bytes"));
        }

        // Unlimited swap with a limit above the old memsw: -1 must be written first too.
        _rt.InvokeOk("update", "--memory", "1g", "--memory-swap", "-1", b.Id);
        Assert.Equal((1024 * Mib).ToString(), Read("memory", b, "memory.limit_in_bytes"));
        if (HasMemsw(b))
        {
            Assert.True(long.Parse(Read("memory", b, "memory.memsw.limit_in_bytes")) > 1L << 62, "memsw is unlimited");
        }

        _rt.InvokeOk("update", "--memory", "32m", "--memory-swap", "48m", b.Id);

        // The state keeps the new values: the spec in `state` is not shown by runc, so read state.json.
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(_rt.StateRoot, b.Id, "state.json")))!;
        Assert.Equal(32 * Mib, (long)state["spec"]!["linux"]!["resources"]!["memory"]!["limit"]!);
        Assert.Equal(48 * Mib, (long)state["spec"]!["linux"]!["resources"]!["memory"]!["swap"]!);
    }

    [Fact]
    public void Pids_cpu_and_cpuset_are_updated_and_a_resources_file_works_too()
    {
        var b = _rt.NewBundle("uppids").Args("sleep", "60");
        b.Resources["pids"] = new JsonObject { ["limit"] = 100 };
        _rt.CreateAndStart(b);

        _rt.InvokeOk("update", "--pids-limit", "7", "--cpu-quota", "30000", "--cpu-period", "100000", "--cpu-shares", "256", "--cpuset-cpus", "0", b.Id);
        Assert.Equal("7", Read("pids", b, "pids.max"));
        Assert.Equal("30000", Read("cpu", b, "cpu.cfs_quota_us"));
        Assert.Equal("256", Read("cpu", b, "cpu.shares"));
        Assert.Equal("0", Read("cpuset", b, "cpuset.cpus"));

        var file = Path.Combine(_rt.TempDir, "res.json");
        File.WriteAllText(file, """{"pids":{"limit":9},"memory":{"limit":67108864}}""");
        _rt.InvokeOk("update", "--resources", file, b.Id);
        Assert.Equal("9", Read("pids", b, "pids.max"));
        Assert.Equal("67108864", Read("memory", b, "memory.limit_in_bytes"));
        Assert.Equal("30000", Read("cpu", b, "cpu.cfs_quota_us")); // untouched sections keep their values
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // the wording and the refusal of a stopped container are MiniDock's
    public void A_stopped_container_cannot_be_updated()
    {
        var b = _rt.NewBundle("upstop").Args("true");
        _rt.CreateAndStart(b);
        _rt.WaitForStatus(b.Id, "stopped");
        var r = _rt.Invoke("update", "--pids-limit", "5", b.Id);
        Assert.True(r.ExitCode == 1, r.Describe());
        Assert.Contains("stopped", r.Stderr, StringComparison.Ordinal);
    }
}
