using System.Globalization;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Resource flags on real containers, checked in the host's own cgroup files: run/create's --cpuset-cpus,
/// --memory-swap, --cpu-shares…, <c>update</c> of a running container (kept across a restart), <c>pause</c>/
/// <c>unpause</c> (the v1 freezer) with kill/stop/rm -f of a paused container, and <c>stats</c>.
/// </summary>
public sealed class ResourceTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const long Mib = 1024 * 1024;

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private int Pid(string name) => int.Parse(_cli.InspectFormat(name, "{{.State.Pid}}"), CultureInfo.InvariantCulture);

    /// <summary>The v1 cgroup directory of the container's init for <paramref name="controller"/>, from /proc/PID/cgroup.</summary>
    private string CgroupDir(string name, string controller)
    {
        foreach (var line in File.ReadAllLines($"/proc/{Pid(name)}/cgroup"))
        {
            var f = line.Split(':', 3);
            if (f.Length == 3 && f[1].Split(',').Contains(controller))
            {
                var mount = Path.Combine("/sys/fs/cgroup", f[1]);
                return (Directory.Exists(mount) ? mount : Path.Combine("/sys/fs/cgroup", controller)) + f[2];
            }
        }

        throw new InvalidOperationException($"{name} has no {controller} cgroup");
    }

    private string Read(string name, string controller, string file) => File.ReadAllText(Path.Combine(CgroupDir(name, controller), file)).Trim();

    [Fact]
    public void Update_changes_memory_and_pids_of_a_running_container_the_new_pids_limit_holds_and_a_restart_keeps_them()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "upd", "-m", "64m", "--pids-limit", "100", image, "sleep", "600");
        Assert.Equal((64 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.limit_in_bytes"));
        Assert.Equal((128 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.memsw.limit_in_bytes")); // Docker's 2×-m default

        var r = _cli.Ok("update", "-m", "200m", "--memory-swap", "400m", "--pids-limit", "6", "--cpu-shares", "512", "upd");
        Assert.Equal("upd", r.Stdout.Trim());
        Assert.Equal((200 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.limit_in_bytes"));
        Assert.Equal((400 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.memsw.limit_in_bytes"));
        Assert.Equal("6", Read("upd", "pids", "pids.max"));
        Assert.Equal("512", Read("upd", "cpu", "cpu.shares"));
        Assert.Equal($"{200 * Mib} {400 * Mib} 6 512", _cli.InspectFormat("upd", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}"));

        // The new limit is enforced: sleep + sh + 4 more fit under 6, the rest cannot be forked.
        var bomb = _cli.Run("exec", "upd", "sh", "-c", "i=0; while [ $i -lt 12 ]; do sleep 30 & i=$((i+1)); done; echo spawned-all");
        Assert.DoesNotContain("spawned-all", bomb.Stdout, StringComparison.Ordinal);
        Assert.True(bomb.Stderr.Contains("can't fork", StringComparison.Ordinal) || bomb.Stderr.Contains("Resource temporarily unavailable", StringComparison.Ordinal), bomb.Describe());
        Assert.True(int.Parse(Read("upd", "pids", "pids.current"), CultureInfo.InvariantCulture) <= 6);

        // A memory limit above the stored memory+swap without a new swap is Docker's refusal, nothing changed.
        var refused = _cli.Run("update", "-m", "500m", "upd");
        Assert.True(refused.ExitCode == 1, refused.Describe());
        Assert.Contains("Memory limit should be smaller than already set memoryswap limit", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal((200 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.limit_in_bytes"));

        _cli.Ok("restart", "-t", "1", "upd");
        _cli.WaitForStatus("upd", "running");
        Assert.Equal((200 * Mib).ToString(CultureInfo.InvariantCulture), Read("upd", "memory", "memory.limit_in_bytes"));
        Assert.Equal("6", Read("upd", "pids", "pids.max"));
    }

    [Fact]
    public void Update_of_a_stopped_container_changes_only_its_stored_options()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("create", "--name", "upc", image, "sleep", "600");
        _cli.Ok("update", "--pids-limit", "33", "--cpus", "0.5", "--restart", "on-failure:2", "upc");
        Assert.Equal("33 500000000 on-failure 2", _cli.InspectFormat("upc", "{{.HostConfig.PidsLimit}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}"));
        _cli.Ok("start", "upc");
        _cli.WaitForStatus("upc", "running");
        Assert.Equal("33", Read("upc", "pids", "pids.max"));
        Assert.Equal("50000", Read("upc", "cpu", "cpu.cfs_quota_us"));
        Assert.Contains("must provide one or more flags", _cli.Fails125("update", "upc"), StringComparison.Ordinal);
    }

    [Fact]
    public void Cpuset_cpus_is_in_the_cpuset_cgroup_and_in_the_containers_own_status()
    {
        var image = _cli.Pulled(sandbox);
        var status = _cli.Ok("run", "--rm", "--cpuset-cpus", "0", image, "cat", "/proc/self/status").Stdout;
        Assert.Contains("Cpus_allowed_list:\t0\n", status, StringComparison.Ordinal);

        _cli.RunDetached("--name", "pin", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--cpu-shares", "256", "--memory-reservation", "32m", "-m", "64m", "--memory-swap", "-1", image, "sleep", "600");
        Assert.Equal("0", Read("pin", "cpuset", "cpuset.cpus"));
        Assert.Equal("0", Read("pin", "cpuset", "cpuset.mems"));
        Assert.Equal("256", Read("pin", "cpu", "cpu.shares"));
        Assert.Equal((32 * Mib).ToString(CultureInfo.InvariantCulture), Read("pin", "memory", "memory.soft_limit_in_bytes"));
        Assert.True(long.Parse(Read("pin", "memory", "memory.memsw.limit_in_bytes"), CultureInfo.InvariantCulture) > 1L << 62, "--memory-swap -1 is unlimited");
        Assert.Equal("0 0 256 33554432 -1", _cli.InspectFormat("pin", "{{.HostConfig.CpusetCpus}} {{.HostConfig.CpusetMems}} {{.HostConfig.CpuShares}} {{.HostConfig.MemoryReservation}} {{.HostConfig.MemorySwap}}"));

        var pinned = File.ReadAllLines($"/proc/{Pid("pin")}/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        Assert.EndsWith("\t0", pinned, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_resource_flags_are_Dockers_one_line_errors_and_create_nothing()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Contains("Minimum memoryswap limit should be larger than memory limit", _cli.Fails125("run", "--rm", "-m", "64m", "--memory-swap", "32m", image, "true"), StringComparison.Ordinal);
        Assert.Contains("You should always set the Memory limit when using Memoryswap limit", _cli.Fails125("run", "--rm", "--memory-swap", "1g", image, "true"), StringComparison.Ordinal);
        Assert.Contains("Requested CPUs are not available", _cli.Fails125("run", "--rm", "--cpuset-cpus", "0-511", image, "true"), StringComparison.Ordinal);
        Assert.Contains("Invalid value x for cpuset cpus", _cli.Fails125("run", "--rm", "--cpuset-cpus", "x", image, "true"), StringComparison.Ordinal);
        Assert.Contains("Conflicting options: Nano CPUs and CPU Quota cannot both be set", _cli.Fails125("run", "--rm", "--cpus", "1", "--cpu-quota", "50000", image, "true"), StringComparison.Ordinal);
        Assert.Contains("range of CPUs is from 0.01 to", _cli.Fails125("run", "--rm", "--cpus", "4096", image, "true"), StringComparison.Ordinal);
        Assert.Contains("failed to parse many as a rational number", _cli.Fails125("run", "--rm", "--cpus", "many", image, "true"), StringComparison.Ordinal);
        Assert.Contains("Range of blkio weight is from 10 to 1000", _cli.Fails125("run", "--rm", "--blkio-weight", "5", image, "true"), StringComparison.Ordinal);
        Assert.Contains("valid memory swappiness range is 0-100", _cli.Fails125("run", "--rm", "--memory-swappiness", "101", image, "true"), StringComparison.Ordinal);
        Assert.Empty(_cli.Ok("ps", "-aq").Stdout.Lines());
    }

    [Fact]
    public void Pause_freezes_ps_says_Paused_unpause_resumes_and_kill_of_a_paused_container_works()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "frz", image, "sh", "-c", "while true; do date +%s%N > /tmp/tick; sleep 0.1; done");
        Assert.Equal("frz", _cli.Ok("pause", "frz").Stdout.Trim());
        Assert.Equal("FROZEN", Read("frz", "freezer", "freezer.state"));
        Assert.Equal("paused true true", _cli.InspectFormat("frz", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}"));
        Assert.Contains("(Paused)", _cli.Ok("ps").Stdout, StringComparison.Ordinal);
        Assert.Equal("frz", _cli.Ok("ps", "--filter", "status=paused", "--format", "{{.Names}}").Stdout.Trim());

        // Frozen: the loop writes nothing while paused (read from the host: exec into a paused container is refused).
        var tick = $"/proc/{Pid("frz")}/root/tmp/tick";
        var before = File.ReadAllText(tick);
        Thread.Sleep(400);
        Assert.Equal(before, File.ReadAllText(tick));
        Assert.Contains("is paused", _cli.Run("exec", "frz", "true").Stderr, StringComparison.Ordinal);
        Assert.Contains("is already paused", _cli.Run("pause", "frz").Stderr, StringComparison.Ordinal);

        _cli.Ok("unpause", "frz");
        Assert.Equal("THAWED", Read("frz", "freezer", "freezer.state"));
        Assert.Equal("running", _cli.InspectFormat("frz", "{{.State.Status}}"));
        CliContainerSupport.Eventually(() => File.ReadAllText(tick) != before, "the loop runs again after unpause", () => File.ReadAllText(tick));
        Assert.Contains("is not paused", _cli.Run("unpause", "frz").Stderr, StringComparison.Ordinal);

        // kill of a paused container: the signal is queued, the thaw delivers it (Docker's order).
        _cli.Ok("pause", "frz");
        _cli.Ok("kill", "frz");
        _cli.WaitForStatus("frz", "exited");
        Assert.Equal("137", _cli.InspectFormat("frz", "{{.State.ExitCode}}"));
    }

    [Fact]
    public void Stop_and_rm_f_of_a_paused_container_work()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "ps1", image, "sleep", "600");
        _cli.RunDetached("--name", "ps2", image, "sleep", "600");
        _cli.Ok("pause", "ps1", "ps2");
        Assert.Equal("paused paused", _cli.InspectFormat("ps1", "{{.State.Status}}") + " " + _cli.InspectFormat("ps2", "{{.State.Status}}"));
        var started = DateTime.UtcNow;
        _cli.Ok("stop", "-t", "1", "ps1");
        Assert.Equal("exited", _cli.InspectFormat("ps1", "{{.State.Status}}"));
        _cli.Ok("rm", "-f", "ps2");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "stop/rm -f of paused containers should not wait out their timeouts");
        Assert.Contains("No such", _cli.Run("inspect", "ps2").Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_no_stream_shows_the_memory_limit_and_pids_and_json_parses()
    {
        var image = _cli.Pulled(sandbox);
        var id = _cli.RunDetached("--name", "st", "-m", "64m", image, "sh", "-c", "sleep 600 & sleep 600 & wait");
        _cli.RunDetached("--name", "st2", image, "sleep", "600");

        var table = _cli.Ok("stats", "--no-stream").Stdout.Lines();
        Assert.StartsWith("CONTAINER ID", table[0], StringComparison.Ordinal);
        foreach (var h in new[] { "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS" })
        {
            Assert.Contains(h, table[0], StringComparison.Ordinal);
        }

        var row = table.Single(l => l.StartsWith(id[..12], StringComparison.Ordinal));
        Assert.Contains(" st ", row, StringComparison.Ordinal);
        Assert.Contains("/ 64MiB", row, StringComparison.Ordinal);
        Assert.EndsWith(" 3", row, StringComparison.Ordinal); // sh and its two sleeps
        Assert.Contains("0B / 0B", row, StringComparison.Ordinal);
        Assert.Equal(3, table.Length); // the header and both running containers

        var json = _cli.Ok("stats", "--no-stream", "--format", "json", "st").Stdout.Lines();
        var o = JsonNode.Parse(Assert.Single(json))!.AsObject();
        Assert.Equal("st", (string?)o["Name"]);
        Assert.Equal(id[..12], (string?)o["ID"]);
        Assert.Equal("3", (string?)o["PIDs"]);
        Assert.EndsWith("/ 64MiB", (string?)o["MemUsage"], StringComparison.Ordinal);
        Assert.EndsWith("%", (string?)o["CPUPerc"], StringComparison.Ordinal);
        Assert.Equal("0B / 0B", (string?)o["NetIO"]);
        var pct = double.Parse(((string?)o["MemPerc"])!.TrimEnd('%'), CultureInfo.InvariantCulture);
        Assert.InRange(pct, 0.0001, 100);

        Assert.Equal("st 3", _cli.Ok("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "st").Stdout.Trim());
        _cli.Ok("stop", "-t", "0", "st2");
        Assert.DoesNotContain(" st2", _cli.Ok("stats", "--no-stream").Stdout, StringComparison.Ordinal);
        Assert.Contains(" st2 ", _cli.Ok("stats", "--no-stream", "-a").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Stats_streams_repeated_tables_until_interrupted()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "stream", image, "sleep", "600");
        using var cmd = _cli.Start("stats");
        Thread.Sleep(2800);
        cmd.Signal(2); // SIGINT, as Ctrl-C
        var r = cmd.Wait(TimeSpan.FromSeconds(10));
        Assert.True(r.Stdout.Split("CONTAINER ID").Length - 1 >= 2, "at least two frames in 2.8 s: " + r.Describe());
        Assert.DoesNotContain("\u001b[2J", r.Stdout, StringComparison.Ordinal); // not a terminal: no clear-screen
    }
}
