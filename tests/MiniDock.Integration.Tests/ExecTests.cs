using System.Globalization;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>`exec` joins the running container: namespaces, cgroups, env, cwd, user, process.json, detach, exit code.</summary>
public sealed class ExecTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Namespaces = ["pid", "mnt", "uts", "ipc", "net"];

    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void Exec_RunsInTheContainersNamespaces()
    {
        var (b, init) = Running("ns");
        var lines = _rt.ExecOk(b.Id, "sh", "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; " + string.Join("; ", Namespaces.Select(n => $"readlink /proc/self/ns/{n}")))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("sleep 30", lines[0].Trim());
        Assert.Equal(b.Hostname, lines[1]);
        for (var i = 0; i < Namespaces.Length; i++)
        {
            var hostView = new FileInfo($"/proc/{init}/ns/{Namespaces[i]}").LinkTarget;
            Assert.Equal(hostView, lines[2 + i]);
        }
    }

    [Fact]
    public void Exec_Env_AddsToTheConfigEnv()
    {
        var (b, _) = Running("env");
        var env = _rt.ExecOk(b.Id, "--env", "EXTRA=one two", "env").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("EXTRA=one two", env);
        Assert.Contains("TERM=xterm", env);
        Assert.DoesNotContain(env, l => l.StartsWith(RuntimeFixture.SentinelVariable, StringComparison.Ordinal));
    }

    [Fact]
    public void Exec_Cwd_IsHonoured()
    {
        var (b, _) = Running("cwd");
        Assert.Equal("/var/run", _rt.ExecOk(b.Id, "--cwd", "/var/run", "pwd").Trim());
    }

    [Fact]
    public void Exec_User_IsHonoured()
    {
        var (b, _) = Running("user");
        var lines = _rt.ExecOk(b.Id, "--user", "1000:1000", "sh", "-c", "id -u; id -g").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["1000", "1000"], lines);
    }

    [Fact]
    public void Exec_ProcessJson_IsUsedWhole()
    {
        var (b, _) = Running("pjson");
        var process = new JsonObject
        {
            ["terminal"] = false,
            ["user"] = new JsonObject { ["uid"] = 65534, ["gid"] = 65534 },
            ["args"] = Bundle.ToArray(["sh", "-c", "echo $PJ; pwd; id -u"]),
            ["env"] = Bundle.ToArray(["PATH=/bin:/usr/bin", "PJ=from-process-json"]),
            ["cwd"] = "/tmp",
        };
        var file = Path.Combine(_rt.TempDir, "process.json");
        File.WriteAllText(file, process.ToJsonString());
        var lines = _rt.ExecOk(b.Id, "--process", file).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["from-process-json", "/tmp", "65534"], lines);
    }

    [Fact]
    public void Exec_Detach_WritesThePidFile()
    {
        var (b, init) = Running("detach");
        var pidFile = Path.Combine(_rt.TempDir, "exec.pid");
        var r = _rt.Exec(b.Id, "-d", "--pid-file", pidFile, "sleep", "20");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(15), "exec -d waited for the process: " + r.Describe());
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.NotEqual(init, pid);
        RuntimeFixture.Eventually(() => File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep", TimeSpan.FromSeconds(5),
            () => $"exec'd pid {pid} to be sleep");
        Assert.Equal(new FileInfo($"/proc/{init}/ns/pid").LinkTarget, new FileInfo($"/proc/{pid}/ns/pid").LinkTarget);
        Assert.Equal(new FileInfo($"/proc/{init}/ns/mnt").LinkTarget, new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Exec_ReturnsTheExitCode(int code)
    {
        var (b, _) = Running("code");
        var r = _rt.Exec(b.Id, "sh", "-c", $"exit {code}");
        Assert.True(r.ExitCode == code, $"expected {code}: " + r.Describe());
    }

    [Fact]
    public void Exec_KeepsStdoutAndStderrApart()
    {
        var (b, _) = Running("stdio");
        var r = _rt.Exec(b.Id, "sh", "-c", "echo to-out; echo to-err >&2");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("to-out", r.Stdout.Trim());
        Assert.Contains("to-err", r.Stderr);
        Assert.DoesNotContain("to-err", r.Stdout);
    }

    [Fact]
    public void Exec_IntoAStoppedContainer_Fails()
    {
        var b = _rt.NewBundle("execstop").Sh("exit 0");
        _rt.CreateAndStart(b);
        _rt.WaitForStatus(b.Id, "stopped");
        var r = _rt.Exec(b.Id, "true");
        Assert.True(r.ExitCode != 0, "exec into a stopped container must fail: " + r.Describe());
    }

    private (Bundle Bundle, int InitPid) Running(string name)
    {
        var b = _rt.NewBundle("exec" + name).Args("sleep", "30");
        b.Hostname = "md-exec";
        return (b, _rt.CreateAndStart(b));
    }
}
