using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>The process section of config.json: pid 1, hostname, env, cwd, user, umask, rlimits, capabilities, nnp, oom.</summary>
public sealed class ProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void TheProcess_IsPid1_OfItsOwnPidNamespace()
    {
        var b = _rt.NewBundle("pid1").Sh("echo $$; exec cat /proc/self/stat");
        var lines = Lines(_rt.RunToCompletion(b));
        Assert.Equal("1", lines[0]);
        // "PID (comm) STATE PPID ...": the exec'd process is pid 1 and has no parent inside the namespace.
        var stat = lines[1];
        Assert.StartsWith("1 (cat) ", stat);
        Assert.Equal("0", stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }

    [Fact]
    public void Hostname_ComesFromTheConfig()
    {
        var b = _rt.NewBundle("host").Args("hostname");
        b.Hostname = "md-" + b.Id[^8..];
        Assert.Equal(b.Hostname, _rt.RunToCompletion(b).Trim());
        Assert.NotEqual(b.Hostname, Environment.MachineName);
    }

    [Fact]
    public void Env_IsExactlyTheConfiguredOne()
    {
        var b = _rt.NewBundle("env").Args("env").Env("FOO=bar baz").Env("EMPTY=");
        var env = Lines(_rt.RunToCompletion(b));
        Assert.Contains("FOO=bar baz", env);
        Assert.Contains("EMPTY=", env);
        Assert.Contains("TERM=xterm", env);
        Assert.Contains(env, l => l.StartsWith("PATH=", StringComparison.Ordinal));
        Assert.DoesNotContain(env, l => l.StartsWith(RuntimeFixture.SentinelVariable, StringComparison.Ordinal));
    }

    [Fact]
    public void Cwd_IsHonoured()
    {
        var b = _rt.NewBundle("cwd").Args("pwd");
        b.Process["cwd"] = "/var/run";
        Assert.Equal("/var/run", _rt.RunToCompletion(b).Trim());
    }

    [Fact]
    public void User_UidGidAndAdditionalGids_AreApplied()
    {
        var b = _rt.NewBundle("user").Sh("id -u; id -g; id -G; grep -E '^(Uid|Gid):' /proc/self/status");
        b.Process["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000, ["additionalGids"] = new JsonArray(2000) };
        var lines = Lines(_rt.RunToCompletion(b));
        Assert.Equal("1000", lines[0]);
        Assert.Equal("1000", lines[1]);
        Assert.Equal(["1000", "2000"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order().ToArray());
        // Real, effective, saved and filesystem ids all switched.
        Assert.Equal(["1000", "1000", "1000", "1000"], lines[3].Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..]);
        Assert.Equal(["1000", "1000", "1000", "1000"], lines[4].Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..]);
    }

    [Fact]
    public void Umask_FromTheConfig_IsApplied()
    {
        var b = _rt.NewBundle("umask").Sh("umask; touch /tmp/f; stat -c %a /tmp/f");
        b.Process["user"]!["umask"] = 0x17; // 027 octal
        var lines = Lines(_rt.RunToCompletion(b));
        Assert.Equal("0027", lines[0]);
        Assert.Equal("640", lines[1]);
    }

    [Fact]
    public void Rlimits_AreApplied()
    {
        var b = _rt.NewBundle("rlim").Sh("ulimit -n; ulimit -Hn; grep -E 'Max (open files|core file size)' /proc/self/limits");
        b.Process["rlimits"] = new JsonArray(
            new JsonObject { ["type"] = "RLIMIT_NOFILE", ["soft"] = 1000, ["hard"] = 1500 },
            new JsonObject { ["type"] = "RLIMIT_CORE", ["soft"] = 4096, ["hard"] = 8192 });
        var lines = Lines(_rt.RunToCompletion(b));
        Assert.Equal("1000", lines[0]);
        Assert.Equal("1500", lines[1]);
        var core = lines.Single(l => l.StartsWith("Max core file size", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["4096", "8192"], core[4..6]);
    }

    [Fact]
    public void Capabilities_ForRoot_MatchTheConfiguredSets()
    {
        string[] full = ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"];
        string[] inheritable = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var b = _rt.NewBundle("caproot").Args("cat", "/proc/self/status");
        b.Process["capabilities"] = new JsonObject
        {
            ["bounding"] = Bundle.ToArray(full),
            ["effective"] = Bundle.ToArray(full),
            ["permitted"] = Bundle.ToArray(full),
            ["inheritable"] = Bundle.ToArray(inheritable),
            ["ambient"] = Bundle.ToArray(inheritable),
        };
        var st = new ProcStatus(_rt.RunToCompletion(b));
        Assert.Equal(ProcStatus.Sorted(full), st.Caps("CapBnd"));
        Assert.Equal(ProcStatus.Sorted(full), st.Caps("CapEff"));
        Assert.Equal(ProcStatus.Sorted(full), st.Caps("CapPrm"));
        Assert.Equal(ProcStatus.Sorted(inheritable), st.Caps("CapInh"));
        Assert.Equal(ProcStatus.Sorted(inheritable), st.Caps("CapAmb"));
    }

    [Fact]
    public void Capabilities_ForNonRoot_SurviveExecThroughTheAmbientSet()
    {
        string[] bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"];
        string[] kept = ["CAP_KILL", "CAP_NET_BIND_SERVICE"];
        var b = _rt.NewBundle("capuser").Args("cat", "/proc/self/status");
        b.Process["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000 };
        b.Process["capabilities"] = new JsonObject
        {
            ["bounding"] = Bundle.ToArray(bounding),
            ["effective"] = Bundle.ToArray(kept),
            ["permitted"] = Bundle.ToArray(kept),
            ["inheritable"] = Bundle.ToArray(kept),
            ["ambient"] = Bundle.ToArray(kept),
        };
        var st = new ProcStatus(_rt.RunToCompletion(b));
        Assert.Equal("1000", st["Uid"].Split('\t')[0]);
        Assert.Equal(ProcStatus.Sorted(bounding), st.Caps("CapBnd"));
        Assert.Equal(ProcStatus.Sorted(kept), st.Caps("CapEff"));
        Assert.Equal(ProcStatus.Sorted(kept), st.Caps("CapPrm"));
        Assert.Equal(ProcStatus.Sorted(kept), st.Caps("CapInh"));
        Assert.Equal(ProcStatus.Sorted(kept), st.Caps("CapAmb"));
    }

    [Theory]
    [InlineData(true, "1")]
    [InlineData(false, "0")]
    public void NoNewPrivileges_IsApplied(bool noNewPrivileges, string expected)
    {
        Assert.Equal("0", new ProcStatus(File.ReadAllText("/proc/self/status"))["NoNewPrivs"]);
        var b = _rt.NewBundle("nnp").Args("cat", "/proc/self/status");
        b.Process["noNewPrivileges"] = noNewPrivileges;
        Assert.Equal(expected, new ProcStatus(_rt.RunToCompletion(b))["NoNewPrivs"]);
    }

    [Fact]
    public void OomScoreAdj_IsApplied()
    {
        var b = _rt.NewBundle("oom").Args("cat", "/proc/self/oom_score_adj");
        b.Process["oomScoreAdj"] = 123;
        Assert.Equal("123", _rt.RunToCompletion(b).Trim());
    }

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
