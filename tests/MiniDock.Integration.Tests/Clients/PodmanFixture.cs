using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Containers;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Clients;

/// <summary>A test that needs podman and conmon: skipped (saying which is missing) where they are not installed.</summary>
public sealed class PodmanFactAttribute : FactAttribute
{
    public PodmanFactAttribute()
    {
        if (PodmanFixture.MissingTools() is { } why)
        {
            Skip = why;
        }
    }
}

/// <summary>
/// Podman (Debian's 4.3.1, with conmon) driving <c>bin/minidock-runtime</c> as its OCI runtime, in a private world:
/// one temp dir per test class holding containers.conf (cgroupfs, file events and locks, ulimits this machine can
/// grant), an empty registries.conf, and podman's --root, --runroot and --tmpdir. The sandbox image is pulled once
/// from a <see cref="SandboxFixture"/> registry of its own; every container runs with <c>--network none</c> (the suite
/// has its own network namespace; no bridge is made). Dispose removes every container and image, waits for conmon and
/// podman's cleanup processes to end, unmounts what is left, removes the containers' cgroups if any remain, and the dir.
/// </summary>
public sealed class PodmanFixture : IDisposable
{
    public const string PodmanBinary = "/usr/bin/podman";

    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private static readonly string[] ConmonPaths =
        ["/usr/bin/conmon", "/usr/sbin/conmon", "/usr/libexec/podman/conmon", "/usr/local/libexec/podman/conmon", "/usr/local/bin/conmon"];

    private readonly StringBuilder _setupLog = new();
    private readonly HashSet<string> _seenIds = [];
    private readonly SandboxFixture? _sandbox;

    public PodmanFixture()
    {
        Dir = Directory.CreateTempSubdirectory("minidock-podman-").FullName;
        if (MissingTools() is not null)
        {
            // Every test is skipped; nothing to set up.
            return;
        }

        try
        {
            WriteConfig();
            _sandbox = new SandboxFixture();
            Image = _sandbox.Image;
            Pull();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The private dir everything of podman's lives under.</summary>
    public string Dir { get; }

    public string ConfPath => Path.Combine(Dir, "containers.conf");

    public string RegistriesConfPath => Path.Combine(Dir, "registries.conf");

    public string Root => Path.Combine(Dir, "root");

    public string RunRoot => Path.Combine(Dir, "runroot");

    public string TmpDir => Path.Combine(Dir, "tmp");

    /// <summary>"overlay", or "vfs" where overlay could not be used.</summary>
    public string StorageDriver { get; private set; } = "overlay";

    /// <summary>The pulled sandbox image ("127.0.0.1:PORT/sandbox:latest").</summary>
    public string Image { get; private set; } = "";

    /// <summary>Where the current test's commands are logged (set by each test class's constructor).</summary>
    public ITestOutputHelper? Output { get; set; }

    /// <summary>MiniDock's runc-compatible face: the <c>minidock-runtime</c> symlink next to <c>bin/minidock</c>.</summary>
    public static string Runtime => Path.Combine(Path.GetDirectoryName(MinidockCli.Binary)!, "minidock-runtime");

    /// <summary>Why the podman tests cannot run here, or null when podman and conmon are installed.</summary>
    public static string? MissingTools()
    {
        var missing = new List<string>();
        if (!File.Exists(PodmanBinary))
        {
            missing.Add($"podman ({PodmanBinary})");
        }

        if (!ConmonPaths.Any(File.Exists))
        {
            missing.Add("conmon");
        }

        return missing.Count == 0 ? null : $"{string.Join(" and ", missing)} not installed (apt-get install podman conmon; make test installs them)";
    }

    /// <summary>podman's global flags: this fixture's storage, MiniDock as the runtime, no systemd anywhere.</summary>
    public string[] GlobalArgs =>
    [
        "--root", Root, "--runroot", RunRoot, "--tmpdir", TmpDir, "--storage-driver", StorageDriver,
        "--runtime", Runtime, "--cgroup-manager", "cgroupfs", "--events-backend", "file",
    ];

    /// <summary>The environment every podman command gets.</summary>
    public Dictionary<string, string> Env => new()
    {
        ["CONTAINERS_CONF"] = ConfPath,
        ["CONTAINERS_REGISTRIES_CONF"] = RegistriesConfPath,
        ["NO_PROXY"] = "127.0.0.1,localhost",
        ["no_proxy"] = "127.0.0.1,localhost",
    };

    /// <summary>A shell command line (env assignments, podman, global flags) to which podman's arguments are appended.</summary>
    public string ShellPrefix =>
        string.Join(' ', Env.Select(kv => $"{kv.Key}={Quote(kv.Value)}").Concat([Quote(PodmanBinary)]).Concat(GlobalArgs.Select(Quote)));

    public CommandResult Run(params string[] args) => Run(CommandTimeout, args);

    public CommandResult Run(TimeSpan timeout, params string[] args)
    {
        Assert.True(File.Exists(Runtime), $"{Runtime} not found: build MiniDock first (make build)");
        var r = ProcessRunner.Run(PodmanBinary, [.. GlobalArgs, .. args], timeout, Env, Dir);
        Log(r.Describe());
        return r;
    }

    public CommandResult Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, "expected podman to succeed: " + r.Describe());
        return r;
    }

    /// <summary><c>podman run -d --network none ARGS</c>: the full ID it printed (remembered for the cgroup check at the end).</summary>
    public string RunDetached(params string[] args)
    {
        var r = Ok(["run", "-d", "--network", "none", .. args]);
        var id = r.Stdout.Trim();
        Assert.True(id.Length == 64 && id.All(char.IsAsciiHexDigitLower), "podman run -d prints the 64-hex container ID: " + r.Describe());
        Remember(id);
        return id;
    }

    /// <summary><c>podman inspect --format TEMPLATE NAME</c>, without the trailing newline.</summary>
    public string InspectFormat(string name, string template) => Ok("inspect", "--format", template, name).Stdout.TrimEnd('\n');

    /// <summary>Remembers a container ID so that its cgroups are checked and removed when the fixture goes.</summary>
    public void Remember(string id)
    {
        lock (_seenIds)
        {
            _seenIds.Add(id);
        }
    }

    /// <summary>
    /// The container's cgroup directories that exist now: <c>/sys/fs/cgroup/CONTROLLER/libpod_parent/libpod-ID</c> on
    /// every v1 hierarchy (and the hybrid's unified one), or <c>/sys/fs/cgroup/libpod_parent/libpod-ID</c> on a pure v2 host.
    /// </summary>
    public static IReadOnlyList<string> CgroupDirs(string id) =>
        [.. Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup")
            .Select(c => Path.Combine(c, "libpod_parent", "libpod-" + id)).Where(Directory.Exists)];

    /// <summary>Removes every container of the current test (the next test starts with none).</summary>
    public void RemoveAllContainers()
    {
        if (!Directory.Exists(Root))
        {
            return;
        }

        foreach (var id in Run("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Remember(id);
        }

        Run("rm", "-af", "-t", "0");
    }

    /// <summary>Removes the cgroup directories still left of every container seen so far; returns those it found.</summary>
    public IReadOnlyList<string> RemoveLeftCgroups()
    {
        string[] ids;
        lock (_seenIds)
        {
            ids = [.. _seenIds];
        }

        var left = ids.SelectMany(CgroupDirs).ToList();
        foreach (var dir in left)
        {
            Log($"cleanup: cgroup {dir} was left");
            try
            {
                Directory.Delete(dir);
            }
            catch (IOException e)
            {
                Log($"cleanup: could not remove {dir}: {e.Message}");
            }
        }

        return left;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root) && File.Exists(PodmanBinary))
        {
            RemoveAllContainers();
            Run("rmi", "-af");
        }

        // conmon and `podman container cleanup` (conmon's exit command) may still be finishing: a cleanup that starts
        // after the dir is gone would make it again.
        WaitForProcessesUsingDir(TimeSpan.FromSeconds(30));
        UnmountAll();
        RemoveLeftCgroups();

        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log($"cleanup: could not remove {Dir}: {e.Message}");
        }

        _sandbox?.Dispose();
    }

    public static string Quote(string s) =>
        s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,@%+".Contains(ch)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    private void WriteConfig()
    {
        foreach (var d in new[] { Root, RunRoot, TmpDir, Path.Combine(Dir, "copytmp") })
        {
            Directory.CreateDirectory(d);
        }

        // No systemd here: cgroupfs and a file for events. No hard limit can be raised on this machine, so the default
        // ulimits are ones it can grant. File locks live under tmp_dir: podman's default, a shm segment
        // (/dev/shm/libpod_lock) shared by every podman on the host, would be freed by each new tmp_dir's refresh.
        File.WriteAllText(ConfPath, $"""
            [containers]
            default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

            [engine]
            cgroup_manager = "cgroupfs"
            events_logger = "file"
            events_logfile_path = "{Path.Combine(TmpDir, "events.log")}"
            lock_type = "file"
            tmp_dir = "{TmpDir}"
            static_dir = "{Path.Combine(Root, "libpod")}"
            volume_path = "{Path.Combine(Root, "volumes")}"
            image_copy_tmp_dir = "{Path.Combine(Dir, "copytmp")}"

            """);
        File.WriteAllText(RegistriesConfPath, "");
    }

    /// <summary>Pulls the sandbox image; when the overlay driver cannot work here, starts over with vfs.</summary>
    private void Pull()
    {
        var r = Run("pull", "-q", "--tls-verify=false", Image);
        if (r.ExitCode != 0 && StorageDriver != "vfs")
        {
            Log("overlay failed; falling back to the vfs storage driver");
            Run("rmi", "-af");
            WaitForProcessesUsingDir(TimeSpan.FromSeconds(10));
            UnmountAll();
            foreach (var d in new[] { Root, RunRoot, TmpDir })
            {
                Directory.Delete(d, recursive: true);
                Directory.CreateDirectory(d);
            }

            StorageDriver = "vfs";
            r = Run("pull", "-q", "--tls-verify=false", Image);
        }

        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException($"podman could not pull the sandbox image:\n{r.Describe()}\n--- setup log ---\n{_setupLog}");
        }
    }

    private void UnmountAll()
    {
        foreach (var m in File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4])
                     .Where(m => m.StartsWith(Dir + "/", StringComparison.Ordinal)).Distinct().OrderByDescending(m => m.Length))
        {
            Log($"cleanup: {m} was still mounted");
            ProcessRunner.Run("umount", ["-l", m], TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Waits until no process names <see cref="Dir"/> on its command line (conmon, podman's cleanup); kills those that outlive the wait.</summary>
    private void WaitForProcessesUsingDir(TimeSpan limit)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var users = ProcessesUsingDir();
            if (users.Count == 0)
            {
                return;
            }

            if (sw.Elapsed > limit)
            {
                foreach (var (pid, cmd) in users)
                {
                    Log($"cleanup: killing {pid} ({cmd}), still running after {limit.TotalSeconds:F0} s");
                    Native.Kill(pid, Native.SIGKILL);
                }

                Thread.Sleep(500);
                return;
            }

            Thread.Sleep(100);
        }
    }

    private List<(int Pid, string Cmd)> ProcessesUsingDir()
    {
        var found = new List<(int, string)>();
        var self = Environment.ProcessId;
        foreach (var p in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(p), out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                var cmd = File.ReadAllText(Path.Combine(p, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(Dir + "/", StringComparison.Ordinal) && !File.ReadAllText(Path.Combine(p, "stat")).Contains(") Z ", StringComparison.Ordinal))
                {
                    found.Add((pid, cmd));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // It ended meanwhile.
            }
        }

        return found;
    }

    private void Log(string text)
    {
        _setupLog.AppendLine(text);
        try
        {
            Output?.WriteLine(text);
        }
        catch (InvalidOperationException)
        {
            // The test that set Output is over (no test is active).
        }
    }
}
