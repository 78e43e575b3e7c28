using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>
/// linux.namespaces "user" with linux.uidMappings/gidMappings (config-linux.md#user-namespace-mappings):
/// the container's root is a mapped host id, exec joins the same user namespace, and the whole
/// lifecycle (state, kill, delete, a foreground run) follows the real init.
/// </summary>
public sealed class UserNamespaceTests : IDisposable
{
    private const int HostId = 100000;
    private const int Size = 65536;
    private readonly RuntimeFixture _rt;

    public UserNamespaceTests(ITestOutputHelper output)
    {
        _rt = new RuntimeFixture(output);

        // The mapped root has no privilege over host-owned paths: the bundle must be reachable by "others".
        File.SetUnixFileMode(_rt.TempDir, (UnixFileMode)0x1ed /* 0755 */);
    }

    public void Dispose() => _rt.Dispose();

    private Bundle UsernsBundle(string name)
    {
        var b = _rt.NewBundle(name).AddNamespace("user");
        var map = new JsonObject { ["containerID"] = 0, ["hostID"] = HostId, ["size"] = Size };
        b.Linux["uidMappings"] = new JsonArray(map.DeepClone());
        b.Linux["gidMappings"] = new JsonArray(map.DeepClone());
        return b;
    }

    private static string Squash(string s) => string.Join(' ', s.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));

    [Fact]
    public void Root_inside_is_the_mapped_host_id_and_exec_sees_the_same_namespace()
    {
        var b = UsernsBundle("userns").Args("sleep", "60");
        var pid = _rt.CreateAndStart(b);

        // Host view: the init runs as the mapped id, in a user namespace of its own.
        var status = new ProcStatus(File.ReadAllText($"/proc/{pid}/status"));
        Assert.Equal($"{HostId} {HostId} {HostId} {HostId}", Squash(status["Uid"]));
        Assert.Equal($"{HostId} {HostId} {HostId} {HostId}", Squash(status["Gid"]));
        var initUserNs = new FileInfo($"/proc/{pid}/ns/user").LinkTarget;
        Assert.NotEqual(new FileInfo("/proc/self/ns/user").LinkTarget, initUserNs);
        Assert.Equal($"0 {HostId} {Size}", Squash(File.ReadAllText($"/proc/{pid}/uid_map")));

        // Container view, through exec: root, the same maps, the same user namespace as the init.
        Assert.Equal("0", _rt.ExecOk(b.Id, "id", "-u").Trim());
        Assert.Equal("0", _rt.ExecOk(b.Id, "id", "-g").Trim());
        Assert.Equal($"0 {HostId} {Size}", Squash(_rt.ExecOk(b.Id, "cat", "/proc/self/uid_map")));
        Assert.Equal($"0 {HostId} {Size}", Squash(_rt.ExecOk(b.Id, "cat", "/proc/self/gid_map")));
        Assert.Equal(initUserNs, _rt.ExecOk(b.Id, "readlink", "/proc/self/ns/user").Trim());
        Assert.Equal(new FileInfo($"/proc/{pid}/ns/pid").LinkTarget, _rt.ExecOk(b.Id, "readlink", "/proc/self/ns/pid").Trim());

        // The init is pid 1 of its pid namespace, and the host pid in state is that process.
        Assert.Equal("sleep", _rt.ExecOk(b.Id, "cat", "/proc/1/comm").Trim());
        Assert.Equal("sleep", File.ReadAllText($"/proc/{pid}/comm").Trim());
        Assert.Contains($"NSpid:\t{pid}\t1", File.ReadAllText($"/proc/{pid}/status"));

        _rt.InvokeOk("kill", b.Id, "KILL");
        _rt.WaitForStatus(b.Id, "stopped");
        _rt.InvokeOk("delete", b.Id);
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(pid), TimeSpan.FromSeconds(5), () => $"init {pid} to be gone");
    }

    [Fact]
    public void A_foreground_run_waits_for_the_real_init_and_returns_its_exit_code()
    {
        var b = UsernsBundle("userns-run").Sh("id -u; cat /proc/self/uid_map; echo pid=$$; exit 3");
        b.Save();
        var r = _rt.RunForeground(b);
        Assert.Equal(3, r.ExitCode);
        Assert.StartsWith("0 ", Squash(r.Stdout));
        Assert.Contains($"0 {HostId} {Size}", Squash(r.Stdout));
        Assert.Contains("pid=1", r.Stdout);
    }

    [Fact]
    public void Default_devices_are_bind_mounted_from_the_host_and_work()
    {
        var b = UsernsBundle("userns-dev").Sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c; stat -c '%t:%T' /dev/null /dev/urandom; mount | grep -c ' /dev/null '");
        var lines = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("4", lines[0].Trim());
        Assert.Equal("1:3", lines[1].Trim());
        Assert.Equal("1:9", lines[2].Trim());
        Assert.Equal("1", lines[3].Trim());
    }

    [Fact]
    public void A_non_root_process_user_is_mapped_too()
    {
        var b = UsernsBundle("userns-user").Sh("id -u; id -g; grep -E '^Uid:' /proc/self/status");
        b.Process["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000 };
        var lines = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("1000", lines[0].Trim());
        Assert.Equal("1000", lines[1].Trim());
    }

    [Fact]
    public void Exec_as_a_user_with_its_own_cwd_env_and_terminal_free_stdio()
    {
        var b = UsernsBundle("userns-exec").Args("sleep", "60");
        _rt.CreateAndStart(b);
        var r = _rt.Invoke("exec", "--user", "1000:1000", "--cwd", "/tmp", "--env", "FOO=bar", b.Id, "sh", "-c", "id -u; pwd; echo $FOO; exit 5");
        Assert.Equal(5, r.ExitCode);
        Assert.Equal(["1000", "/tmp", "bar"], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
    }

    [Fact]
    public void A_container_without_a_user_namespace_is_unchanged()
    {
        var b = _rt.NewBundle("no-userns").Args("sleep", "60");
        var pid = _rt.CreateAndStart(b);
        Assert.Equal(new FileInfo("/proc/self/ns/user").LinkTarget, new FileInfo($"/proc/{pid}/ns/user").LinkTarget);
        Assert.Equal("0 0 4294967295", Squash(_rt.ExecOk(b.Id, "cat", "/proc/self/uid_map")));
        Assert.Equal("0 0 0 0", Squash(new ProcStatus(File.ReadAllText($"/proc/{pid}/status"))["Uid"]));
    }
}
