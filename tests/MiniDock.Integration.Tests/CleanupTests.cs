using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>Nothing of the runtime leaks into the container (fds, signal dispositions) or stays behind on the host.</summary>
public sealed partial class CleanupTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void Init_HasOnlyStdioOpen()
    {
        var b = _rt.NewBundle("fds").Args("sleep", "30");
        _rt.CreateAndStart(b);
        var fds = _rt.ExecOk(b.Id, "ls", "/proc/1/fd").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", "1", "2"], fds.Order());
    }

    [Fact]
    public void ExecProcess_HasOnlyStdioOpen()
    {
        var b = _rt.NewBundle("execfds").Args("sleep", "30");
        _rt.CreateAndStart(b);
        // fd 3 is ls's own handle on the directory it lists.
        var fds = _rt.ExecOk(b.Id, "ls", "/proc/self/fd").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", "1", "2", "3"], fds.Order());
    }

    [Fact]
    public void NoSignalIsIgnoredOrBlocked_InInitOrExec()
    {
        var b = _rt.NewBundle("sigs").Args("sleep", "30");
        _rt.CreateAndStart(b);
        var init = new ProcStatus(_rt.ExecOk(b.Id, "cat", "/proc/1/status"));
        Assert.Equal(0UL, init.Hex("SigIgn"));
        Assert.Equal(0UL, init.Hex("SigBlk"));
        var exec = new ProcStatus(_rt.ExecOk(b.Id, "cat", "/proc/self/status"));
        Assert.Equal(0UL, exec.Hex("SigIgn"));
        Assert.Equal(0UL, exec.Hex("SigBlk"));
    }

    [Fact]
    public void NoDotnetDiagnosticSockets_AreLeftOnTheHost()
    {
        var before = DiagnosticSockets();
        var b = _rt.NewBundle("diag").Args("sleep", "30");
        var init = _rt.CreateAndStart(b);
        _rt.ExecOk(b.Id, "true");
        _rt.InvokeOk("state", b.Id);
        _rt.InvokeOk("delete", "--force", b.Id);
        var once = _rt.NewBundle("diag2").Args("true");
        _rt.RunToCompletion(once);

        // Other dotnet processes on the machine may come and go: only blame sockets of the container's init
        // or of processes that are already gone (short-lived runtime invocations).
        var leaked = DiagnosticSockets().Except(before)
            .Where(s => OwnerPid(s) is not { } pid || pid == init || RuntimeFixture.ProcessGone(pid))
            .ToList();
        Assert.True(leaked.Count == 0, "runtime left diagnostic sockets: " + string.Join(", ", leaked));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(b.RootFs, "tmp"), "dotnet-diagnostic-*"));
    }

    [Fact]
    public void Delete_RemovesTheStateDir()
    {
        var b = _rt.NewBundle("state").Args("sleep", "30");
        _rt.CreateAndStart(b);
        Assert.NotEmpty(EntriesNaming(b.Id));
        _rt.InvokeOk("kill", b.Id, "KILL");
        _rt.WaitForStatus(b.Id, "stopped");
        _rt.InvokeOk("delete", b.Id);
        Assert.Empty(EntriesNaming(b.Id));

        var once = _rt.NewBundle("state2").Args("true");
        _rt.RunToCompletion(once);
        Assert.Empty(EntriesNaming(once.Id));
    }

    [Fact]
    public void DeleteForce_LeavesNoProcessBehind()
    {
        var b = _rt.NewBundle("procs").Sh("sleep 30 & sleep 30 & exec sleep 30");
        var init = _rt.CreateAndStart(b);
        RuntimeFixture.Eventually(
            () => File.ReadAllLines(Path.Combine(RuntimeFixture.CgroupDir("pids", b.CgroupsPath), "cgroup.procs")).Length >= 3,
            TimeSpan.FromSeconds(10), () => "three processes in the container");
        var members = File.ReadAllLines(Path.Combine(RuntimeFixture.CgroupDir("pids", b.CgroupsPath), "cgroup.procs"))
            .Select(int.Parse).ToList();
        Assert.Contains(init, members);
        _rt.InvokeOk("delete", "--force", b.Id);
        RuntimeFixture.Eventually(() => members.All(RuntimeFixture.ProcessGone), TimeSpan.FromSeconds(10),
            () => "every container process to be gone: " + string.Join(' ', members.Where(p => !RuntimeFixture.ProcessGone(p))));
    }

    private List<string> EntriesNaming(string id) =>
        Directory.Exists(_rt.StateRoot)
            ? Directory.EnumerateFileSystemEntries(_rt.StateRoot, "*", SearchOption.AllDirectories)
                .Where(p => p.Contains(id, StringComparison.Ordinal)).ToList()
            : [];

    private static HashSet<string> DiagnosticSockets() =>
        Directory.EnumerateFileSystemEntries(Path.GetTempPath(), "dotnet-diagnostic-*").ToHashSet();

    private static int? OwnerPid(string socket)
    {
        var m = DiagnosticName().Match(Path.GetFileName(socket));
        return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    [GeneratedRegex(@"^dotnet-diagnostic-(\d+)-")]
    private static partial Regex DiagnosticName();
}
