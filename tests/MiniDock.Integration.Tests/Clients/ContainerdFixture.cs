using System.Security.Cryptography;
using System.Text;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Clients;

/// <summary>
/// A private containerd (Debian's 1.6, with its runc v2 shim) for one test class, driven with <c>ctr</c> and told to use
/// MiniDock as its runc (<see cref="RunFlags"/>: <c>--runc-binary bin/minidock-runtime --runc-root DIR/runc</c>).
/// Everything it writes lives in one temp dir: root, state, the grpc and ttrpc sockets, the opt dir, ctr's FIFOs and the
/// runtime's state root. A private namespace name (<see cref="Namespace"/>, unique per fixture) makes the absolute
/// cgroupsPath containerd hands the runtime, <c>/NAMESPACE/ID</c>, unique too. The sandbox image is pulled once from a
/// loopback registry (<see cref="SandboxFixture"/>), which is stopped right after.
/// <para>
/// Dispose kills and removes every task and container, stops containerd (SIGTERM, then SIGKILL), kills any shim or
/// container process it left, force-deletes runtime state, unmounts what is left under the dir, removes the
/// <c>/sys/fs/cgroup/*/NAMESPACE</c> dirs and the shims' sockets (/run/containerd/s, not movable in 1.6), then the dir.
/// </para>
/// </summary>
public sealed class ContainerdFixture : IDisposable
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly RunningCommand _containerd;
    private readonly List<string> _ids = [];
    private readonly Dictionary<string, string> _env = new()
    {
        ["NO_PROXY"] = "127.0.0.1,localhost",
        ["no_proxy"] = "127.0.0.1,localhost",
    };

    public ContainerdFixture()
    {
        foreach (var tool in new[] { "containerd", "ctr", "containerd-shim-runc-v2" })
        {
            if (Which(tool) is null)
            {
                throw new InvalidOperationException($"{tool} not installed (Debian's containerd package; `make test` installs it)");
            }
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("the containerd tests must run as root (inside `unshare -m -n --propagation private`)");
        }

        Runtime = ResolveRuntime();
        if (!File.Exists(Runtime))
        {
            throw new InvalidOperationException($"runtime binary not found: {Runtime}: build MiniDock first (make), or set MINIDOCK_RUNTIME");
        }

        Namespace = "minidock-ctr-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        Dir = Directory.CreateTempSubdirectory("minidock-ctr-").FullName;
        Directory.CreateDirectory(FifoDir);
        var config = Path.Combine(Dir, "config.toml");
        File.WriteAllText(config, $"""
            version = 2
            root = "{Dir}/root"
            state = "{Dir}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]

            [grpc]
              address = "{Socket}"

            [ttrpc]
              address = "{Socket}.ttrpc"

            [plugins."io.containerd.internal.v1.opt"]
              path = "{Dir}/opt"

            """);

        _containerd = new RunningCommand("containerd", ["--config", config], _env, Dir);
        try
        {
            WaitUntilServing();
            PullImage();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The runtime under test: $MINIDOCK_RUNTIME, else minidock-runtime next to bin/minidock.</summary>
    public string Runtime { get; }

    /// <summary>The containerd namespace (<c>ctr -n</c>), and so the first element of every container's cgroupsPath.</summary>
    public string Namespace { get; }

    public string Dir { get; }

    public string Socket => Path.Combine(Dir, "containerd.sock");

    /// <summary>ctr's <c>--runc-root</c>; the shim passes <c>--root RUNCROOT/NAMESPACE</c> to the runtime.</summary>
    public string RuncRoot => Path.Combine(Dir, "runc");

    /// <summary>The runtime's own state root, as the shim passes it.</summary>
    public string RuntimeStateRoot => Path.Combine(RuncRoot, Namespace);

    public string FifoDir => Path.Combine(Dir, "fifo");

    /// <summary>The image to run: the sandbox image (busybox-static with every applet) as pulled from the registry.</summary>
    public string Image { get; private set; } = "";

    /// <summary>What <c>ctr run</c> needs to use MiniDock with a private runtime root and FIFO dir.</summary>
    public string[] RunFlags => ["--runc-binary", Runtime, "--runc-root", RuncRoot, "--fifo-dir", FifoDir];

    /// <summary>containerd's log (stderr) so far.</summary>
    public string ContainerdLog => _containerd.StderrSoFar;

    /// <summary>Whether cgroup v2 is the only hierarchy (else v1, maybe with a v2 "unified" mount beside it).</summary>
    public static bool UnifiedCgroups => File.Exists("/sys/fs/cgroup/cgroup.controllers");

    /// <summary>A fresh container id <c>NAME-xxxxxxxx</c>, remembered for Dispose.</summary>
    public string NewId(string name)
    {
        var id = $"{name}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        lock (_ids)
        {
            _ids.Add(id);
        }

        return id;
    }

    /// <summary><c>ctr -a SOCKET -n NAMESPACE ARGS</c>.</summary>
    public CommandResult Ctr(TimeSpan timeout, params string[] args) =>
        ProcessRunner.Run("ctr", ["-a", Socket, "-n", Namespace, .. args], timeout, _env, Dir);

    /// <summary>The runtime itself, with the state root the shim gives it.</summary>
    public CommandResult RuntimeCommand(params string[] args) =>
        ProcessRunner.Run(Runtime, ["--root", RuntimeStateRoot, .. args], CommandTimeout, _env, Dir);

    /// <summary>The cgroup dir a container of this namespace gets for a v1 controller (v2: the unified dir).</summary>
    public string ExpectedCgroupDir(string id, string controller) =>
        UnifiedCgroups ? $"/sys/fs/cgroup/{Namespace}/{id}" : $"/sys/fs/cgroup/{controller}/{Namespace}/{id}";

    /// <summary>Every existing cgroup dir, in any hierarchy, named /NAMESPACE/ID.</summary>
    public IReadOnlyList<string> CgroupDirsOf(string id) =>
        [.. HierarchyRoots().Select(root => Path.Combine(root, Namespace, id)).Where(Directory.Exists)];

    /// <summary>The last lines of containerd's log (for failure messages).</summary>
    public string LogTail(int lines = 40)
    {
        var all = ContainerdLog.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return "--- containerd log (tail) ---\n" + string.Join('\n', all.TakeLast(lines));
    }

    public void Dispose()
    {
        if (!_containerd.HasExited)
        {
            RemoveEverything();
            StopContainerd();
        }

        KillLeftovers();
        foreach (var id in Lines(Try(() => RuntimeCommand("list", "-q"))))
        {
            Try(() => RuntimeCommand("delete", "--force", id));
        }

        string[] ids;
        lock (_ids)
        {
            ids = [.. _ids];
        }

        foreach (var id in ids)
        {
            // The shim's socket: unix:///run/containerd/s/sha256(ADDRESS/NAMESPACE/ID) (containerd 1.6's shim.SocketAddress).
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.Join(Socket, Namespace, id))));
            var sock = Path.Combine("/run/containerd/s", hash);
            if (File.Exists(sock))
            {
                Try(() => File.Delete(sock));
            }
        }

        foreach (var m in File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4])
                     .Where(m => m.StartsWith(Dir + "/", StringComparison.Ordinal)).Distinct().OrderByDescending(m => m.Length))
        {
            Try(() => ProcessRunner.Run("umount", ["-l", m], TimeSpan.FromSeconds(10)));
        }

        RemoveCgroups();
        _containerd.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing to report to (class fixtures have no test output); the dir is under /tmp.
        }
    }

    /// <summary>Every hierarchy's root: /sys/fs/cgroup on v2; each mounted v1 hierarchy (and "unified") otherwise.</summary>
    public static IReadOnlyList<string> HierarchyRoots()
    {
        if (UnifiedCgroups)
        {
            return ["/sys/fs/cgroup"];
        }

        // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' '))
            .Where(f => f.Length > 4 && f[4].StartsWith("/sys/fs/cgroup/", StringComparison.Ordinal)
                && Array.IndexOf(f, "-") is var sep and > 0 && sep + 1 < f.Length && f[sep + 1] is "cgroup" or "cgroup2")
            .Select(f => f[4])
            .Distinct();
        return [.. mounts];
    }

    private static string ResolveRuntime()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MINIDOCK_RUNTIME");
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(Path.GetDirectoryName(MinidockCli.Binary)!, "minidock-runtime")
            : Path.GetFullPath(fromEnv);
    }

    private static string? Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Append("/usr/sbin").Append("/usr/bin")
        .Select(d => Path.Combine(d, tool))
        .FirstOrDefault(File.Exists);

    private void WaitUntilServing()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        CommandResult? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_containerd.HasExited)
            {
                throw new InvalidOperationException($"containerd exited at start:\n{ContainerdLog}");
            }

            if (File.Exists(Socket))
            {
                last = Ctr(TimeSpan.FromSeconds(20), "version");
                if (last.ExitCode == 0)
                {
                    return;
                }
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException(
            $"containerd did not serve {Socket} within {StartTimeout.TotalSeconds:F0} s\n{last?.Describe()}\n{LogTail()}");
    }

    private void PullImage()
    {
        using var sandbox = new SandboxFixture();
        var pull = Ctr(CommandTimeout, "images", "pull", "--plain-http", sandbox.Image);
        if (pull.ExitCode != 0)
        {
            throw new InvalidOperationException($"ctr images pull failed: {pull.Describe()}\n{LogTail()}");
        }

        Image = sandbox.Image;
        var ls = Ctr(CommandTimeout, "images", "ls", "-q");
        if (!ls.Stdout.Split('\n').Contains(Image))
        {
            throw new InvalidOperationException($"{Image} is not listed after the pull: {ls.Describe()}");
        }
    }

    private void RemoveEverything()
    {
        foreach (var id in Lines(Try(() => Ctr(TimeSpan.FromSeconds(30), "task", "ls", "-q"))))
        {
            // rm -f kills a running or paused task first; a stopped one is removed by a plain rm.
            if (Try(() => Ctr(TimeSpan.FromSeconds(30), "task", "rm", "-f", id)) is not { ExitCode: 0 })
            {
                Try(() => Ctr(TimeSpan.FromSeconds(30), "task", "rm", id));
            }
        }

        foreach (var id in Lines(Try(() => Ctr(TimeSpan.FromSeconds(30), "container", "ls", "-q"))))
        {
            Try(() => Ctr(TimeSpan.FromSeconds(30), "container", "rm", id));
        }
    }

    private void StopContainerd()
    {
        Native.Kill(_containerd.Pid, Native.SIGTERM);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!_containerd.HasExited && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        if (!_containerd.HasExited)
        {
            Native.Kill(_containerd.Pid, Native.SIGKILL);
        }
    }

    /// <summary>Shims of this containerd (found by its socket in their command line) and processes in this namespace's cgroups.</summary>
    private void KillLeftovers()
    {
        foreach (var pidDir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(pidDir), out var pid))
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(pidDir, "cmdline")).Replace('\0', ' ');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (cmdline.Contains("containerd-shim", StringComparison.Ordinal) && cmdline.Contains(Socket, StringComparison.Ordinal))
            {
                Native.Kill(pid, Native.SIGKILL);
            }
        }

        foreach (var root in HierarchyRoots())
        {
            var ns = Path.Combine(root, Namespace);
            if (!Directory.Exists(ns))
            {
                continue;
            }

            foreach (var procs in Directory.EnumerateFiles(ns, "cgroup.procs", SearchOption.AllDirectories))
            {
                foreach (var line in Lines(Try(() => File.ReadAllText(procs))))
                {
                    if (int.TryParse(line, out var pid))
                    {
                        Native.Kill(pid, Native.SIGKILL);
                    }
                }
            }
        }
    }

    private void RemoveCgroups()
    {
        foreach (var root in HierarchyRoots())
        {
            var ns = Path.Combine(root, Namespace);
            if (!Directory.Exists(ns))
            {
                continue;
            }

            var dirs = Directory.EnumerateDirectories(ns, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(ns).ToList();
            foreach (var d in dirs)
            {
                // A killed process leaves its cgroup a moment later: retry briefly (rmdir of a cgroup is EBUSY until then).
                for (var attempt = 0; attempt < 50; attempt++)
                {
                    try
                    {
                        Directory.Delete(d);
                        break;
                    }
                    catch (IOException)
                    {
                        Thread.Sleep(100);
                    }
                    catch (UnauthorizedAccessException)
                    {
                        break;
                    }
                }
            }
        }
    }

    private static string[] Lines(string? text) => text?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    private static string[] Lines(CommandResult? r) => r is { ExitCode: 0 } ? Lines(r.Stdout) : [];

    private static T? Try<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (Exception)
        {
            // Cleanup goes on whatever one step did (a timed-out command fails with an assertion exception).
            return default;
        }
    }

    private static void Try(Action f)
    {
        try
        {
            f();
        }
        catch (Exception)
        {
        }
    }
}
