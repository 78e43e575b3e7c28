using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>ps</c> (running vs -a, --format json with Docker's keys, --filter, -q) and <c>inspect</c>'s Docker-shaped fields.</summary>
public sealed class CliPsInspectTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Ps_lists_running_containers_and_ps_a_all_of_them()
    {
        var (running, exited) = RunningAndExited();
        Assert.Equal([running[..12]], _cli.Ok("ps", "-q").Stdout.Lines());

        // Newest first, as Docker lists them.
        Assert.Equal([exited, running], _cli.Ok("ps", "-a", "-q", "--no-trunc").Stdout.Lines());

        var table = _cli.Ok("ps").Stdout.Lines();
        Assert.Equal(2, table.Length);
        Assert.StartsWith("CONTAINER ID", table[0]);
        Assert.Contains("runner", table[1]);
        Assert.Contains("Up ", table[1]);

        var all = _cli.Ok("ps", "-a").Stdout.Lines();
        Assert.Equal(3, all.Length);
        Assert.Contains(all, l => l.Contains("finisher", StringComparison.Ordinal) && l.Contains("Exited (3)", StringComparison.Ordinal));
    }

    [Fact]
    public void Ps_format_json_prints_one_object_per_line_with_Docker_keys()
    {
        var (running, exited) = RunningAndExited();
        var objects = _cli.Ok("ps", "-a", "--format", "json").Stdout.Lines().Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(2, objects.Count);
        foreach (var o in objects)
        {
            foreach (var key in new[] { "ID", "Names", "State", "Status", "Image", "Command", "CreatedAt", "Labels", "Mounts", "Networks", "Ports", "RunningFor" })
            {
                Assert.True(o.ContainsKey(key), $"ps json has {key}: {o.ToJsonString()}");
            }

            Assert.Equal(sandbox.Image, (string?)o["Image"]);
        }

        var r = Assert.Single(objects, o => (string?)o["Names"] == "runner");
        Assert.Equal(running[..12], (string?)r["ID"]);
        Assert.Equal("running", (string?)r["State"]);
        Assert.StartsWith("Up ", (string?)r["Status"]);
        Assert.Equal("\"sleep 1000\"", (string?)r["Command"]);

        var e = Assert.Single(objects, o => (string?)o["Names"] == "finisher");
        Assert.Equal(exited[..12], (string?)e["ID"]);
        Assert.Equal("exited", (string?)e["State"]);
        Assert.StartsWith("Exited (3) ", (string?)e["Status"]);

        // Without -a only the running one.
        Assert.Equal("runner", (string?)JsonNode.Parse(Assert.Single(_cli.Ok("ps", "--format", "json").Stdout.Lines()))!["Names"]);
    }

    [Fact]
    public void Ps_format_template_renders_the_fields()
    {
        RunningAndExited();
        var lines = _cli.Ok("ps", "-a", "--format", "{{.Names}}={{.State}}").Stdout.Lines().Order(StringComparer.Ordinal);
        Assert.Equal(["finisher=exited", "runner=running"], lines);
    }

    [Fact]
    public void Ps_filters_by_status_name_and_exit_code()
    {
        var (running, exited) = RunningAndExited();
        Assert.Equal([exited[..12]], _cli.Ok("ps", "-q", "--filter", "status=exited").Stdout.Lines());
        Assert.Equal([running[..12]], _cli.Ok("ps", "-aq", "--filter", "status=running").Stdout.Lines());
        Assert.Equal([running[..12]], _cli.Ok("ps", "-aq", "--filter", "name=runner").Stdout.Lines());
        Assert.Equal([exited[..12]], _cli.Ok("ps", "-aq", "--filter", "name=finish").Stdout.Lines());
        Assert.Equal([exited[..12]], _cli.Ok("ps", "-aq", "--filter", "exited=3").Stdout.Lines());
        Assert.Empty(_cli.Ok("ps", "-aq", "--filter", "exited=0").Stdout.Lines());
        Assert.Empty(_cli.Ok("ps", "-aq", "--filter", "name=nobody-has-this-name").Stdout.Lines());
        Assert.Equal([exited[..12]], _cli.Ok("ps", "-aq", "--filter", "status=exited", "--filter", "name=finisher").Stdout.Lines());
        Assert.Empty(_cli.Ok("ps", "-aq", "--filter", "status=exited", "--filter", "name=runner").Stdout.Lines());
    }

    [Fact]
    public void Ps_with_an_unknown_filter_is_our_error()
    {
        _cli.Pulled(sandbox);
        Assert.Contains("colour", _cli.Fails125("ps", "--filter", "colour=red"));
    }

    [Fact]
    public void Inspect_of_a_running_container_has_its_state_name_env_and_policy()
    {
        var image = _cli.Pulled(sandbox);
        var id = _cli.RunDetached("--name", "probe", "-e", "GREETING=hello there", "--restart", "unless-stopped", image, "sleep", "1000");
        var o = _cli.InspectContainer("probe");
        Assert.Equal(id, (string?)o["Id"]);
        Assert.Equal("/probe", (string?)o["Name"]);
        var state = o["State"]!.AsObject();
        Assert.Equal("running", (string?)state["Status"]);
        Assert.True((bool)state["Running"]!);
        Assert.False((bool)state["OOMKilled"]!);
        Assert.Equal(0, (int)state["ExitCode"]!);
        Assert.True((int)state["Pid"]! > 0);
        Assert.Contains("GREETING=hello there", o["Config"]!["Env"]!.AsArray().Select(e => (string?)e));
        Assert.Contains("PATH=/bin", o["Config"]!["Env"]!.AsArray().Select(e => (string?)e));
        Assert.Equal("unless-stopped", (string?)o["HostConfig"]!["RestartPolicy"]!["Name"]);
        Assert.Equal(sandbox.Image, (string?)o["Config"]!["Image"]);
        Assert.Equal("sleep", (string?)o["Path"]);
        Assert.Equal(["1000"], o["Args"]!.AsArray().Select(a => (string?)a));
        Assert.Empty(o["Mounts"]!.AsArray());

        Assert.Equal("running true false 0 /probe", _cli.InspectFormat("probe", "{{.State.Status}} {{.State.Running}} {{.State.OOMKilled}} {{.State.ExitCode}} {{.Name}}"));
    }

    [Fact]
    public void Inspect_of_an_exited_container_has_its_exit_and_times()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Run("run", "--name", "ended", image, "sh", "-c", "exit 9");
        var state = _cli.InspectContainer("ended")["State"]!.AsObject();
        Assert.Equal("exited", (string?)state["Status"]);
        Assert.False((bool)state["Running"]!);
        Assert.Equal(9, (int)state["ExitCode"]!);
        Assert.Equal(0, (int)state["Pid"]!);
        var started = DateTimeOffset.Parse((string)state["StartedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var finished = DateTimeOffset.Parse((string)state["FinishedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(started <= finished, $"{started:O} <= {finished:O}");
        Assert.Equal("no", _cli.InspectFormat("ended", "{{.HostConfig.RestartPolicy.Name}}"));
    }

    [Fact]
    public void Inspect_mounts_list_binds_and_volumes()
    {
        var image = _cli.Pulled(sandbox);
        var host = Directory.CreateDirectory(Path.Combine(_cli.Dir, "shared")).FullName;
        _cli.Ok("run", "--name", "mounted", "-v", $"{host}:/host:ro", "-v", "named-vol:/named", image, "true");
        var mounts = _cli.InspectContainer("mounted")["Mounts"]!.AsArray().Select(m => m!.AsObject()).ToList();
        Assert.Equal(2, mounts.Count);
        var bind = Assert.Single(mounts, m => (string?)m["Destination"] == "/host");
        Assert.Equal("bind", (string?)bind["Type"]);
        Assert.Equal(host, (string?)bind["Source"]);
        Assert.False((bool)bind["RW"]!);
        var vol = Assert.Single(mounts, m => (string?)m["Destination"] == "/named");
        Assert.Equal("volume", (string?)vol["Type"]);
        Assert.Equal("named-vol", (string?)vol["Name"]);
        Assert.True((bool)vol["RW"]!);
        Assert.Equal([$"{host}:/host:ro"], _cli.InspectContainer("mounted")["HostConfig"]!["Binds"]!.AsArray().Select(b => (string?)b));
    }

    [Fact]
    public void Inspect_of_an_unknown_name_fails_with_no_such_object()
    {
        _cli.Pulled(sandbox);
        var r = _cli.Run("inspect", "nothing-here");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("No such object: nothing-here", r.Stderr);
    }

    [Fact]
    public void Container_prune_removes_only_stopped_containers()
    {
        var (running, exited) = RunningAndExited();
        var r = _cli.Ok("container", "prune", "-f");
        Assert.Contains(exited, r.Stdout);
        Assert.Equal([running], _cli.Ok("ps", "-aq", "--no-trunc").Stdout.Lines());
    }

    private (string Running, string Exited) RunningAndExited()
    {
        var image = _cli.Pulled(sandbox);
        var running = _cli.RunDetached("--name", "runner", image, "sleep", "1000");
        var r = _cli.Run("run", "--name", "finisher", image, "sh", "-c", "exit 3");
        Assert.True(r.ExitCode == 3, r.Describe());
        var exited = _cli.InspectFormat("finisher", "{{.Id}}");
        return (running, exited);
    }
}
