using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>create / start / state / kill / delete / list / run, as the runc command line defines them.</summary>
public sealed class LifecycleTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void CreateStartKillDelete_WalksTheStates()
    {
        var b = _rt.NewBundle("life").Sh("echo started > /tmp/marker; exec sleep 30");
        _rt.Create(b);

        var state = _rt.State(b.Id);
        Assert.Equal("created", (string?)state["status"]);
        Assert.Equal(b.Id, (string?)state["id"]);
        Assert.False(string.IsNullOrEmpty((string?)state["ociVersion"]), "state has no ociVersion: " + state);
        var bundle = (string?)state["bundle"];
        Assert.True(bundle is not null && Path.IsPathRooted(bundle), "bundle must be an absolute path: " + state);
        Assert.Equal(Path.GetFullPath(b.Dir), Path.GetFullPath(bundle!));
        var pid = (int)state["pid"]!;
        Assert.True(pid > 0 && Directory.Exists($"/proc/{pid}"), $"created container's init pid {pid} is not alive");
        Assert.False(File.Exists(Path.Combine(b.RootFs, "tmp", "marker")), "the user process ran before `start`");

        _rt.InvokeOk("start", b.Id);
        RuntimeFixture.Eventually(() => _rt.Exec(b.Id, "cat", "/tmp/marker").Stdout.Trim() == "started",
            TimeSpan.FromSeconds(10), () => "exec cat /tmp/marker to print 'started'");
        Assert.Equal("running", _rt.TryStatus(b.Id));
        Assert.Equal(pid, _rt.Pid(b.Id));

        _rt.InvokeOk("kill", b.Id, "KILL");
        _rt.WaitForStatus(b.Id, "stopped");

        _rt.InvokeOk("delete", b.Id);
        var after = _rt.Invoke("state", b.Id);
        Assert.True(after.ExitCode != 0, "state must fail after delete: " + after.Describe());
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(pid), TimeSpan.FromSeconds(5), () => $"init {pid} to be gone");
    }

    [Fact]
    public void List_ShowsTheContainer_InEveryFormat()
    {
        var b = _rt.NewBundle("list").Args("sleep", "30");
        _rt.Create(b);
        var pid = _rt.Pid(b.Id);

        var table = _rt.InvokeOk("list").Stdout;
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", lines[0]);
        var row = Assert.Single(lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() == b.Id);
        var cols = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), cols[1]);
        Assert.Equal("created", cols[2]);

        var quiet = _rt.InvokeOk("list", "-q").Stdout;
        Assert.Equal([b.Id], quiet.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var json = JsonNode.Parse(_rt.InvokeOk("list", "--format", "json").Stdout)!.AsArray();
        var entry = Assert.Single(json);
        Assert.Equal(b.Id, (string?)entry!["id"]);
        Assert.Equal("created", (string?)entry["status"]);
        Assert.Equal(pid, (int)entry["pid"]!);
    }

    [Fact]
    public void Run_Foreground_PassesStdoutAndExitCode_ThenDeletesTheContainer()
    {
        var b = _rt.NewBundle("runfg").Sh("echo out-from-container; exit 3");
        var r = _rt.RunForeground(b);
        Assert.True(r.ExitCode == 3, "expected the container's exit code 3: " + r.Describe());
        Assert.Contains("out-from-container", r.Stdout);
        var state = _rt.Invoke("state", b.Id);
        Assert.True(state.ExitCode != 0, "run must delete the container when it exits: " + state.Describe());
    }

    [Fact]
    public void Run_Detach_ReturnsWhileTheContainerRuns()
    {
        var b = _rt.NewBundle("rund").Args("sleep", "30");
        b.Save();
        var r = _rt.InvokeOk("run", "--detach", "--bundle", b.Dir, b.Id);
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), "run --detach waited for the container: " + r.Describe());
        Assert.Equal("running", _rt.TryStatus(b.Id));
        var pid = _rt.Pid(b.Id);
        RuntimeFixture.Eventually(() => File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep", TimeSpan.FromSeconds(5),
            () => $"init {pid} to be the container's sleep");
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run --detach")]
    public void PidFile_HoldsTheInitPid(string command)
    {
        var b = _rt.NewBundle("pidf").Args("sleep", "30");
        b.Save();
        var pidFile = Path.Combine(_rt.TempDir, "init.pid");
        _rt.InvokeOk([.. command.Split(' '), "--bundle", b.Dir, "--pid-file", pidFile, b.Id]);
        Assert.True(File.Exists(pidFile), "no pid file written");
        var written = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(_rt.Pid(b.Id), written);
        Assert.True(Directory.Exists($"/proc/{written}"));
    }

    [Fact]
    public void Run_Foreground_ProcessKilledBySignal_Returns128PlusSignal()
    {
        // Without a pid namespace the shell is not a namespace init, so it can kill itself with SIGTERM.
        var b = _rt.NewBundle("sig").RemoveNamespace("pid").Sh("kill -TERM $$; sleep 5");
        var r = _rt.RunForeground(b);
        Assert.True(r.ExitCode == 128 + 15, "expected 143 for death by SIGTERM: " + r.Describe());
    }

    [Fact]
    public void Start_Twice_Fails_AndTheContainerKeepsRunning()
    {
        var b = _rt.NewBundle("twice").Args("sleep", "30");
        _rt.CreateAndStart(b);
        var again = _rt.Invoke("start", b.Id);
        Assert.True(again.ExitCode != 0, "starting a running container must fail: " + again.Describe());
        Assert.Equal("running", _rt.TryStatus(b.Id));
    }

    [Fact]
    public void ExitedContainer_IsStopped_UntilDeleted()
    {
        var b = _rt.NewBundle("exited").Sh("exit 0");
        var pid = _rt.CreateAndStart(b);
        _rt.WaitForStatus(b.Id, "stopped");
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(pid), TimeSpan.FromSeconds(5), () => $"init {pid} to be gone");
        Assert.Equal("stopped", _rt.TryStatus(b.Id));
        _rt.InvokeOk("delete", b.Id);
        Assert.Null(_rt.TryStatus(b.Id));
    }
}
