using System.Diagnostics;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>
/// OCI hooks. Every hook appends its name to HOOKS/log and saves its stdin (the state JSON), its hostname and
/// its uts/mnt namespace ids. HOOKS is a host dir bind-mounted into the container at the same absolute path,
/// so the path means the same thing to host hooks and to container hooks (createContainer, startContainer).
/// </summary>
public sealed class HookTests(ITestOutputHelper output) : IDisposable
{
    private const string HookPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly string[] AllKinds = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void AllHooks_RunInLifecycleOrder_WithTheStateOnStdin()
    {
        var (b, hooks) = BundleWithRecordingHooks("hooks");
        _rt.Create(b);
        var pid = _rt.Pid(b.Id);
        var initUts = ReadLink($"/proc/{pid}/ns/uts");
        var initMnt = ReadLink($"/proc/{pid}/ns/mnt");
        // runc 1.1 already runs poststart at create, so only the first three are checked here (see the strict test).
        Assert.Equal(["prestart", "createRuntime", "createContainer"], Log(hooks)[..3]);
        Assert.DoesNotContain("startContainer", Log(hooks));

        _rt.InvokeOk("start", b.Id);
        RuntimeFixture.Eventually(() => Log(hooks).Length >= 5, TimeSpan.FromSeconds(10), () => "startContainer and poststart hooks");
        _rt.InvokeOk("kill", b.Id, "KILL");
        _rt.WaitForStatus(b.Id, "stopped");
        _rt.InvokeOk("delete", b.Id);

        var log = Log(hooks);
        Assert.Equal(AllKinds.Order(), log.Order());
        Assert.Equal(["prestart", "createRuntime", "createContainer"], log[..3]);
        Assert.Equal("poststop", log[^1]);

        foreach (var kind in AllKinds)
        {
            var state = JsonNode.Parse(File.ReadAllText(Path.Combine(hooks, kind + ".json")))!.AsObject();
            Assert.Equal(b.Id, (string?)state["id"]);
            Assert.Equal(b.Dir, (string?)state["bundle"]);
            Assert.False(string.IsNullOrEmpty((string?)state["ociVersion"]), $"{kind}: no ociVersion in {state}");
        }

        // prestart (deprecated) sees "created": runtime-tools' hooks_stdin requires it.
        Assert.Equal("created", Status(hooks, "prestart"));
        Assert.Equal("creating", Status(hooks, "createRuntime"));
        Assert.Equal("creating", Status(hooks, "createContainer"));
        Assert.Equal("created", Status(hooks, "startContainer"));
        Assert.Equal("stopped", Status(hooks, "poststop"));
        foreach (var kind in new[] { "prestart", "createRuntime", "poststart" })
        {
            var state = JsonNode.Parse(File.ReadAllText(Path.Combine(hooks, kind + ".json")))!;
            Assert.Equal(pid, (int?)state["pid"]);
        }

        // Runtime hooks run in the runtime's namespaces, container hooks in the container's.
        var hostUts = ReadLink("/proc/self/ns/uts");
        foreach (var kind in new[] { "prestart", "createRuntime", "poststart", "poststop" })
        {
            Assert.Equal(hostUts, Saved(hooks, kind, "uts"));
            Assert.Equal(Environment.MachineName, Saved(hooks, kind, "host"));
        }

        foreach (var kind in new[] { "createContainer", "startContainer" })
        {
            Assert.Equal(initUts, Saved(hooks, kind, "uts"));
            Assert.Equal(initMnt, Saved(hooks, kind, "mnt"));
        }

        Assert.Equal(b.Hostname, Saved(hooks, "startContainer", "host"));
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc 1.1 runs poststart at create (status "created"), before startContainer.
    public void Hooks_RunExactlyAtTheirLifecycleStep_AndPoststartSeesARunningContainer()
    {
        var (b, hooks) = BundleWithRecordingHooks("hookord");
        _rt.Create(b);
        Assert.Equal(["prestart", "createRuntime", "createContainer"], Log(hooks));

        _rt.InvokeOk("start", b.Id);
        RuntimeFixture.Eventually(() => Log(hooks).Length >= 5, TimeSpan.FromSeconds(10), () => "startContainer and poststart hooks");
        Assert.Equal(AllKinds[..5], Log(hooks));
        Assert.Equal("running", Status(hooks, "poststart"));

        _rt.InvokeOk("kill", b.Id, "KILL");
        _rt.WaitForStatus(b.Id, "stopped");
        Assert.Equal(AllKinds[..5], Log(hooks));
        _rt.InvokeOk("delete", b.Id);
        Assert.Equal(AllKinds, Log(hooks));
    }

    [Fact]
    public void HookArgsAndEnv_ArePassed()
    {
        var hooks = _rt.HostDir("hookargs");
        var b = _rt.NewBundle("hookargs").Args("true");
        b.AddHook("createRuntime", Bundle.Hook("/bin/sh",
            ["sh", "-c", $"echo \"$0 $1 $HOOKVAR\" > {hooks}/args", "arg-zero", "arg-one"], ["HOOKVAR=from-env", HookPath]));
        _rt.RunToCompletion(b);
        Assert.Equal("arg-zero arg-one from-env", File.ReadAllText(Path.Combine(hooks, "args")).Trim());
    }

    [Fact]
    public void FailingPrestart_AbortsCreate_AndCleansUp()
    {
        var b = _rt.NewBundle("hookfail").Args("sleep", "30");
        b.AddHook("prestart", Bundle.Hook("/bin/sh", ["sh", "-c", "exit 7"]));
        b.Save();
        var r = _rt.Invoke("create", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode != 0, "create must fail when a prestart hook fails: " + r.Describe());
        Assert.Null(_rt.TryStatus(b.Id));
        RuntimeFixture.Eventually(() => RuntimeFixture.CgroupDirsFor(b.CgroupsPath).All(d => !Directory.Exists(d)),
            TimeSpan.FromSeconds(5), () => "the cgroup dirs of the failed container to be removed");
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc fails `start` and kills the container; the spec says warn and go on.
    public void FailingPoststart_OnlyWarns()
    {
        var hooks = _rt.HostDir("poststart");
        var b = _rt.NewBundle("psfail").Args("sleep", "30");
        b.AddHook("poststart", Bundle.Hook("/bin/sh", ["sh", "-c", "exit 1"]));
        b.AddHook("poststart", Bundle.Hook("/bin/sh", ["sh", "-c", $"echo second > {hooks}/second"]));
        _rt.Create(b);
        var r = _rt.Invoke("start", b.Id);
        Assert.True(r.ExitCode == 0, "a failing poststart hook must not fail start: " + r.Describe());
        Assert.Contains("poststart", r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("running", _rt.TryStatus(b.Id));
        Assert.Equal("second", File.ReadAllText(Path.Combine(hooks, "second")).Trim());
    }

    [Fact]
    public void HookTimeout_IsHonoured()
    {
        var b = _rt.NewBundle("hooktmo").Args("sleep", "30");
        b.AddHook("prestart", Bundle.Hook("/bin/sleep", ["sleep", "30"], timeoutSeconds: 1));
        b.Save();
        var sw = Stopwatch.StartNew();
        var r = _rt.Invoke("create", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode != 0, "create must fail when a hook times out: " + r.Describe());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"the 1 s hook timeout was not enforced ({sw.Elapsed})");
        Assert.Contains("timeout", r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Null(_rt.TryStatus(b.Id));
    }

    private (Bundle Bundle, string HooksDir) BundleWithRecordingHooks(string name)
    {
        var hooks = _rt.HostDir(name + "-log");
        var b = _rt.NewBundle(name).Args("sleep", "30");
        b.Hostname = "md-hooks";
        b.AddBind(hooks, hooks, readOnly: false);
        foreach (var kind in AllKinds)
        {
            var script = $"cat > {hooks}/{kind}.json; hostname > {hooks}/{kind}.host; " +
                         $"readlink /proc/self/ns/uts > {hooks}/{kind}.uts; readlink /proc/self/ns/mnt > {hooks}/{kind}.mnt; " +
                         $"echo {kind} >> {hooks}/log";
            b.AddHook(kind, Bundle.Hook("/bin/sh", ["sh", "-c", script], [HookPath]));
        }

        return (b, hooks);
    }

    private static string[] Log(string hooks)
    {
        var path = Path.Combine(hooks, "log");
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0).ToArray() : [];
    }

    private static string? Status(string hooks, string kind) =>
        (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(hooks, kind + ".json")))!["status"];

    private static string Saved(string hooks, string kind, string what) =>
        File.ReadAllText(Path.Combine(hooks, $"{kind}.{what}")).Trim();

    private static string ReadLink(string path) =>
        new FileInfo(path).LinkTarget ?? throw new InvalidOperationException($"{path} is not a link");
}
