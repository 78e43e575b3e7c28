using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// Per-test access to the runtime under test (MiniDock's <c>bin/minidock-runtime</c>, or whatever
/// MINIDOCK_RUNTIME names, e.g. runc). Owns a unique temp dir with a private state root
/// (<c>--root TEMP/state</c> on every call), the bundles made in it and every container id handed out;
/// <see cref="Dispose"/> force-deletes those containers, removes their cgroup dirs and the temp dir,
/// whether or not the test passed.
/// </summary>
public sealed class RuntimeFixture : IDisposable
{
    /// <summary>Set in the runtime's environment; a container must never see it.</summary>
    public const string SentinelVariable = "MINIDOCK_IT_SENTINEL";

    public const string CgroupParent = "minidock-test";

    public const string CgroupRoot = "/sys/fs/cgroup";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> LazyRepoRoot = new(FindRepoRoot);

    private static readonly Lazy<string> BundleTemplate = new(MakeBundleTemplate, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ITestOutputHelper? _log;
    private readonly List<string> _ids = [];
    private readonly List<string> _extraCgroupDirs = [];
    private readonly List<RunningCommand> _background = [];
    private readonly Dictionary<int, string> _initStartTimes = [];
    private readonly Dictionary<string, string> _env = new() { [SentinelVariable] = "leaked-from-host" };

    public RuntimeFixture(ITestOutputHelper? log = null)
    {
        _log = log;
        RuntimePath = ResolveRuntime();
        if (!File.Exists(RuntimePath))
        {
            Assert.Fail(
                $"runtime binary not found: {RuntimePath}. Build MiniDock first (make) so that bin/minidock-runtime exists, " +
                "or point MINIDOCK_RUNTIME at a runc-compatible runtime.");
        }

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Fail("the integration tests must run as root (inside `unshare -m --propagation private`).");
        }

        TempDir = Directory.CreateTempSubdirectory("minidock-it-").FullName;
        StateRoot = Path.Combine(TempDir, "state");
    }

    /// <summary>The repository root: the first directory above the test binaries holding MiniDock.sln or .git.</summary>
    public static string RepoRoot => LazyRepoRoot.Value;

    public string RuntimePath { get; }

    /// <summary>This test's private scratch directory (absolute).</summary>
    public string TempDir { get; }

    /// <summary>The runtime's state root, passed as --root on every call.</summary>
    public string StateRoot { get; }

    /// <summary>
    /// Makes a fresh bundle for container <c>NAME-xxxxxxxx</c> with cgroupsPath /minidock-test/ID and a writable root.
    /// The bundle is an exact copy (cp -a) of one that mkbundle.sh made once for this test run: running the
    /// script itself costs ~1.5 s of forks per bundle, which would dominate the suite on two cores.
    /// </summary>
    public Bundle NewBundle(string name)
    {
        var id = NewId(name);
        var dir = Path.Combine(TempDir, "bundle-" + id);
        var copied = ProcessRunner.Run("/bin/cp", ["-a", BundleTemplate.Value, dir], TimeSpan.FromSeconds(60), ioDir: TempDir);
        Assert.True(copied.ExitCode == 0, "copying the template bundle failed: " + copied.Describe());
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
        var bundle = new Bundle(dir, id, config)
        {
            CgroupsPath = $"/{CgroupParent}/{id}",
            ReadonlyRoot = false,
        };
        return bundle;
    }

    /// <summary>A unique, valid container id that Dispose will force-delete.</summary>
    public string NewId(string name)
    {
        var id = $"{name}-{Guid.NewGuid().ToString("N")[..8]}";
        _ids.Add(id);
        return id;
    }

    /// <summary>Creates (and returns) an empty host directory inside the temp dir.</summary>
    public string HostDir(string name) => Directory.CreateDirectory(Path.Combine(TempDir, name)).FullName;

    /// <summary>Asks Dispose to remove this cgroup directory (absolute, under /sys/fs/cgroup) too.</summary>
    public void RegisterCgroupDir(string path) => _extraCgroupDirs.Add(path);

    /// <summary>Runs <c>RUNTIME --root STATE ARGS...</c> to completion.</summary>
    public CommandResult Invoke(params string[] args) => Invoke(DefaultTimeout, args);

    public CommandResult Invoke(TimeSpan timeout, params string[] args)
    {
        var result = ProcessRunner.Run(RuntimePath, ["--root", StateRoot, .. args], timeout, _env, TempDir);
        _log?.WriteLine(result.Describe());
        return result;
    }

    /// <summary>Like <see cref="Invoke(string[])"/> but fails the test unless the exit code is 0.</summary>
    public CommandResult InvokeOk(params string[] args)
    {
        var r = Invoke(args);
        Assert.True(r.ExitCode == 0, "expected success: " + r.Describe());
        return r;
    }

    /// <summary>Starts <c>RUNTIME --root STATE ARGS...</c> in the background (killed in Dispose if still running).</summary>
    public RunningCommand Launch(params string[] args)
    {
        var cmd = new RunningCommand(RuntimePath, ["--root", StateRoot, .. args], _env, TempDir);
        _background.Add(cmd);
        return cmd;
    }

    /// <summary>Waits for a launched command and logs its result.</summary>
    public CommandResult Finish(RunningCommand cmd, TimeSpan? timeout = null)
    {
        var r = cmd.Wait(timeout ?? DefaultTimeout);
        _log?.WriteLine(r.Describe());
        return r;
    }

    public CommandResult Create(Bundle b, params string[] extra)
    {
        b.Save();
        return InvokeOk(["create", "--bundle", b.Dir, .. extra, b.Id]);
    }

    /// <summary>create + start; returns the init pid.</summary>
    public int CreateAndStart(Bundle b)
    {
        Create(b);
        InvokeOk("start", b.Id);
        return Pid(b.Id);
    }

    /// <summary><c>run --bundle B ID</c> in the foreground; the exit code is not checked.</summary>
    public CommandResult RunForeground(Bundle b, params string[] extra) => RunForeground(b, DefaultTimeout, extra);

    public CommandResult RunForeground(Bundle b, TimeSpan timeout, params string[] extra)
    {
        b.Save();
        return Invoke(timeout, ["run", "--bundle", b.Dir, .. extra, b.Id]);
    }

    /// <summary>Runs a one-shot container in the foreground and returns its stdout; fails unless it exited 0.</summary>
    public string RunToCompletion(Bundle b)
    {
        var r = RunForeground(b);
        Assert.True(r.ExitCode == 0, "container failed: " + r.Describe());
        return r.Stdout;
    }

    /// <summary>Starts <c>run --bundle B ID</c> in the background (foreground mode, so the runtime waits for the container).</summary>
    public RunningCommand LaunchRun(Bundle b, params string[] extra)
    {
        b.Save();
        return Launch(["run", "--bundle", b.Dir, .. extra, b.Id]);
    }

    public JsonObject State(string id)
    {
        var r = InvokeOk("state", id);
        try
        {
            var state = JsonNode.Parse(r.Stdout)!.AsObject();
            if (state["pid"] is JsonValue v && v.TryGetValue<int>(out var pid) && pid > 0 && StartTime(pid) is { } started)
            {
                _initStartTimes[pid] = started;
            }

            return state;
        }
        catch (System.Text.Json.JsonException e)
        {
            Assert.Fail($"state output is not JSON ({e.Message}): {r.Describe()}");
            throw;
        }
    }

    public int Pid(string id) => (int)State(id)["pid"]!;

    /// <summary>The status from <c>state ID</c>, or null when the runtime says the container does not exist.</summary>
    public string? TryStatus(string id)
    {
        var r = Invoke("state", id);
        return r.ExitCode == 0 ? (string?)JsonNode.Parse(r.Stdout)?["status"] : null;
    }

    public void WaitForStatus(string id, string status, TimeSpan? timeout = null)
    {
        string? last = null;
        Eventually(() => (last = TryStatus(id)) == status, timeout ?? TimeSpan.FromSeconds(15),
            () => $"container {id} to reach status '{status}' (last seen: '{last ?? "<no state>"}')");
    }

    /// <summary><c>exec ID ARGS...</c> (ARGS may start with exec options).</summary>
    public CommandResult Exec(string id, params string[] args) => Invoke(["exec", .. OptionsFirst(id, args)]);

    /// <summary>exec that must succeed; returns stdout.</summary>
    public string ExecOk(string id, params string[] args)
    {
        var r = Exec(id, args);
        Assert.True(r.ExitCode == 0, "exec failed: " + r.Describe());
        return r.Stdout;
    }

    /// <summary>Polls a condition every 50 ms; fails the test with a description on timeout.</summary>
    public static void Eventually(Func<bool> condition, TimeSpan timeout, Func<string> waitingFor)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:F0} s waiting for {waitingFor()}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>The directories of one cgroupsPath under every v1 controller hierarchy that exists.</summary>
    public static IEnumerable<string> CgroupDirsFor(string cgroupsPath) =>
        Directory.EnumerateDirectories(CgroupRoot).Select(c => Path.Combine(c, cgroupsPath.TrimStart('/')));

    /// <summary>The dir of cgroupsPath under one controller, e.g. /sys/fs/cgroup/memory/minidock-test/ID.</summary>
    public static string CgroupDir(string controller, string cgroupsPath) =>
        Path.Combine(CgroupRoot, controller, cgroupsPath.TrimStart('/'));

    /// <summary>True when a process is gone (or only a zombie waiting to be reaped).</summary>
    public static bool ProcessGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterComm = stat[(stat.LastIndexOf(')') + 2)..];
            return afterComm.StartsWith('Z') || afterComm.StartsWith('X');
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks), or null when the process is gone.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 19 ? fields[19] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var cmd in _background)
        {
            cmd.Dispose();
        }

        foreach (var id in _ids)
        {
            try
            {
                var r = ProcessRunner.Run(RuntimePath, ["--root", StateRoot, "delete", "--force", id], TimeSpan.FromSeconds(15), _env, TempDir);
                if (r.ExitCode == 0)
                {
                    _log?.WriteLine($"cleanup: deleted {id}");
                }
            }
            catch (Exception e)
            {
                _log?.WriteLine($"cleanup: delete -f {id} failed: {e.Message}");
            }
        }

        // A runtime whose delete is broken must not leave container inits running: kill the ones this test saw
        // (the start time guards against a recycled pid).
        foreach (var (pid, started) in _initStartTimes)
        {
            if (StartTime(pid) == started && !ProcessGone(pid))
            {
                _log?.WriteLine($"cleanup: killing leftover container init {pid}");
                Native.Kill(pid, Native.SIGKILL);
            }
        }

        var cgroupDirs = _ids.SelectMany(id => CgroupDirsFor($"/{CgroupParent}/{id}")).Concat(_extraCgroupDirs);
        foreach (var dir in cgroupDirs)
        {
            RemoveCgroupTree(dir);
        }

        // The shared parent goes with the last test that used it (rmdir fails while others still do).
        foreach (var parent in CgroupDirsFor($"/{CgroupParent}"))
        {
            try
            {
                Directory.Delete(parent);
            }
            catch (IOException)
            {
            }
        }

        UnmountLeftovers();
        try
        {
            Directory.Delete(TempDir, recursive: true);
        }
        catch (Exception e)
        {
            _log?.WriteLine($"cleanup: could not remove {TempDir}: {e.Message}");
        }
    }

    private static string[] OptionsFirst(string id, string[] args)
    {
        // exec's options come before the id: split leading "-x"/"--x value" pairs off.
        var i = 0;
        var opts = new List<string>();
        while (i < args.Length && args[i].StartsWith('-'))
        {
            var o = args[i++];
            opts.Add(o);
            var takesValue = o is "--env" or "-e" or "--cwd" or "--user" or "-u" or "--process" or "-p" or "--pid-file"
                or "--additional-gids" or "-g" or "--cap" or "-c";
            if (takesValue && !o.Contains('=') && i < args.Length)
            {
                opts.Add(args[i++]);
            }
        }

        return [.. opts, id, .. args[i..]];
    }

    private void RemoveCgroupTree(string dir)
    {
        if (!Directory.Exists(dir))
        {
            return;
        }

        var all = Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories)
            .Append(dir)
            .OrderByDescending(d => d.Count(ch => ch == '/'))
            .ToList();
        foreach (var d in all)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                try
                {
                    KillCgroupMembers(d);
                    Directory.Delete(d, recursive: false);
                    _log?.WriteLine($"cleanup: removed leftover cgroup {d}");
                    break;
                }
                catch (DirectoryNotFoundException)
                {
                    break;
                }
                catch (IOException) when (attempt < 19)
                {
                    Thread.Sleep(50);
                }
                catch (Exception e)
                {
                    _log?.WriteLine($"cleanup: could not remove cgroup {d}: {e.Message}");
                    break;
                }
            }
        }
    }

    private static void KillCgroupMembers(string dir)
    {
        var procs = Path.Combine(dir, "cgroup.procs");
        if (!File.Exists(procs))
        {
            return;
        }

        foreach (var line in File.ReadAllLines(procs))
        {
            if (int.TryParse(line, out var pid) && pid > 1)
            {
                Native.Kill(pid, Native.SIGKILL);
            }
        }
    }

    private void UnmountLeftovers()
    {
        var prefix = TempDir + "/";
        var leftovers = MountInfo.ReadSelf()
            .Where(m => m.MountPoint.StartsWith(prefix, StringComparison.Ordinal))
            .Select(m => m.MountPoint)
            .Distinct()
            .OrderByDescending(p => p.Length);
        foreach (var mp in leftovers)
        {
            _log?.WriteLine($"cleanup: unmounting leaked mount {mp}");
            Native.Umount2(mp, Native.MNT_DETACH);
        }
    }

    /// <summary>Runs samples/busybox-bundle/mkbundle.sh once per test run; removed when the test process exits.</summary>
    private static string MakeBundleTemplate()
    {
        var root = Directory.CreateTempSubdirectory("minidock-it-template-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        var dir = Path.Combine(root, "bundle");
        var mkbundle = Path.Combine(RepoRoot, "samples", "busybox-bundle", "mkbundle.sh");
        var made = ProcessRunner.Run("/bin/sh", [mkbundle, dir], TimeSpan.FromSeconds(120), ioDir: root);
        if (made.ExitCode != 0)
        {
            throw new InvalidOperationException("mkbundle.sh failed: " + made.Describe());
        }

        return dir;
    }

    private static string ResolveRuntime()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MINIDOCK_RUNTIME");
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(RepoRoot, "bin", "minidock-runtime")
            : Path.GetFullPath(fromEnv);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = dir.FullName;
            if (File.Exists(Path.Combine(p, "MiniDock.sln")) || Directory.Exists(Path.Combine(p, ".git")) || File.Exists(Path.Combine(p, ".git")))
            {
                return p;
            }
        }

        throw new InvalidOperationException($"no MiniDock.sln or .git above {AppContext.BaseDirectory}");
    }
}
