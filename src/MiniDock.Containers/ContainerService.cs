using MiniDock.Containers.Config;
using MiniDock.Containers.Rootfs;
using MiniDock.Containers.Store;
using MiniDock.Containers.Volumes;
using MiniDock.Images;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;
using MiniDock.Images.Unpack;
using MiniDock.Native;
using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers;

/// <summary>A container's process as started by <see cref="ContainerService.Launch"/>: the fds its owner keeps.</summary>
public sealed class Launched
{
    public required int Pid { get; init; }

    /// <summary>Write end of the container's stdin pipe (-i without -t); -1 otherwise.</summary>
    public int StdinWrite { get; init; } = -1;

    public int StdoutRead { get; init; } = -1;

    public int StderrRead { get; init; } = -1;

    /// <summary>The pty master (-t); -1 otherwise.</summary>
    public int PtyMaster { get; init; } = -1;
}

/// <summary>
/// Containers as a user sees them: create from an image, start (mount the snapshot, build config.json, hand it
/// to the runtime engine), stop, kill, remove, and the one place that decides what state a container is really
/// in (<see cref="Refresh"/>), even when the process that owned it was killed.
/// </summary>
/// <remarks>
/// Whoever starts a container's process owns it: a foreground <c>run</c> in the CLI itself, otherwise a detached
/// monitor process (<see cref="Monitor.ContainerMonitor"/>). The owner waits for it, records its exit and cleans
/// up (runtime state, cgroup, overlay mount). If the owner dies first, the next command that looks at the container
/// sees a dead owner and a dead process and does that cleanup itself, recording that the exit status was lost.
/// Every change that must not interleave (launch, finalize, remove) holds the container directory's flock.
/// </remarks>
public sealed partial class ContainerService(DataRoot root, ContainerDb db, ImageDb images, IContentStore content, LayerStore layers)
{
    /// <summary>Exit code recorded when nobody was left to see the real one.</summary>
    public const int LostExitCode = 255;

    public ContainerPaths Paths { get; } = new(root);

    public ContainerDb Db => db;

    public StateStore Runtime { get; } = new(root.RuntimeState);

    public VolumeStore Volumes { get; } = new(root.Data);

    /// <summary><c>MINIDOCK_TRACE=1</c>: each step of a container's start and end with its time, on stderr.</summary>
    public Trace Trace { get; set; } = Trace.Off;

    /// <summary>Docker's "No such container" lookup by ID, name or unique ID prefix.</summary>
    public ContainerRow Require(string text) => db.Find(text) ?? throw new ContainerException($"No such container: {text}");

    /// <summary>Records a new container (state created) and its directory; nothing runs yet.</summary>
    public ContainerRow Create(RunOptions o, ImageRecord image)
    {
        if (o.Name is { } n)
        {
            ContainerName.Validate(n);
        }

        if (o.AutoRemove && RestartPolicy.Parse(o.Restart).Name != "no")
        {
            throw new ContainerException("Conflicting options: --restart and --rm");
        }

        CheckNetworkAtCreate(o);

        var row = new ContainerRow
        {
            Id = Names.NewId(),
            Name = o.Name ?? Names.Generate(),
            Image = o.Image,
            ImageId = image.Id,
            Created = DateTime.UtcNow.Ticks,
            Options = RunOptionsJson.Write(o),
            State = "created",
            Driver = ChooseDriver(),
        };
        if (!string.IsNullOrEmpty(o.UsernsRemap) && row.Driver == "vfs")
        {
            // The vfs driver copies the layers as they are; a remapped container would need every copied file chowned.
            throw new ContainerException("--userns-remap needs the overlay storage driver (idmapped layers); the vfs driver is in use here");
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                db.Insert(row);
                break;
            }
            catch (ContainerException) when (o.Name is null && attempt < 5)
            {
                row.Name = Names.Generate() + "_" + Random.Shared.Next(100);
            }
        }

        // The row first, then its directory: a create killed in between leaves a row that rm removes, never a
        // directory that no row names (and so nothing ever removes).
        try
        {
            Directory.CreateDirectory(Paths.Dir(row.Id));
        }
        catch
        {
            db.Delete(row.Id);
            throw;
        }

        return row;
    }

    /// <summary>
    /// The container's true state now: the row says what its owner last wrote, the process table says what is
    /// true. A dead process whose owner is dead too is finalized here (see the class remarks).
    /// </summary>
    public ContainerState Refresh(ContainerRow row)
    {
        var s = ContainerStates.Parse(row.State);
        if (s is ContainerState.Exited or ContainerState.Dead or ContainerState.Removing || (s == ContainerState.Created && row.Pid == 0))
        {
            return s;
        }

        if (row.Pid > 0 && Processes.IsAlive(row.Pid, (ulong)row.PidStart))
        {
            if (s == ContainerState.Created)
            {
                // Killed between the runtime's create and start: the init is parked on its fifo. Killed inside start,
                // after the init was released but before the fifo was removed: the fifo is there, but the init exec'd.
                if (File.Exists(Runtime.FifoPath(row.Id)) && IsParkedInit(row.Pid))
                {
                    return ContainerState.Created;
                }

                MarkStartedIfOrphaned(row);
                return ContainerState.Running;
            }

            return s == ContainerState.Running && IsFrozen(row) ? ContainerState.Paused : s;
        }

        if (row.MonitorPid > 0 && Processes.IsAlive(row.MonitorPid, (ulong)row.MonitorStart))
        {
            // Its owner is alive and will record the exit in a moment.
            return s;
        }

        FinalizeOrphan(row.Id);
        var now = db.Get(row.Id);
        return now is null ? ContainerState.Removing : ContainerStates.Parse(now.State);
    }

    /// <summary>Rows with their live state, newest first.</summary>
    public IReadOnlyList<(ContainerRow Row, ContainerState State)> List()
    {
        var result = new List<(ContainerRow, ContainerState)>();
        foreach (var row in db.All())
        {
            var s = Refresh(row);
            if (s != ContainerState.Removing || db.Get(row.Id) is not null)
            {
                result.Add((db.Get(row.Id) ?? row, s));
            }
        }

        return result;
    }

    /// <summary>The parsed image config the container was made from.</summary>
    public ImageConfig ImageConfigOf(ContainerRow row)
    {
        var path = content.BlobPath(row.ImageId);
        if (!File.Exists(path))
        {
            throw new ContainerException($"image {row.ImageId} of container {row.Name} is gone; remove the container");
        }

        return ImageConfig.Parse(File.ReadAllBytes(path));
    }

    /// <summary>The unpacked layer directories of the container's image, base first.</summary>
    public IReadOnlyList<string> LowerDirs(ContainerRow row)
    {
        var dirs = new List<string>();
        foreach (var l in images.Layers(row.ImageId))
        {
            var dir = layers.PathOf(l.ChainId);
            if (!Directory.Exists(dir))
            {
                throw new ContainerException($"layer {l.Digest} of image {row.Image} is not unpacked: pull the image again");
            }

            dirs.Add(dir);
        }

        return dirs;
    }

    /// <summary>The snapshotter chosen when the container was created (no probe: the choice is recorded).</summary>
    public ISnapshotter SnapshotterOf(ContainerRow row)
    {
        if (row.Driver == "vfs")
        {
            return new CopySnapshotter();
        }

        var o = RunOptionsJson.Read(row.Options);
        return new OverlaySnapshotter { Volatile = o.AutoRemove, Remap = UsernsRemap.Parse(o.UsernsRemap) };
    }

    /// <summary>
    /// The storage driver for new containers: MINIDOCK_STORAGE_DRIVER, else the overlayfs probe's verdict, which is
    /// kept in DATA/storage-driver so that only the first container on a host pays for the probe mount.
    /// </summary>
    public string ChooseDriver()
    {
        if (Environment.GetEnvironmentVariable(Snapshotters.EnvironmentVariable) is { Length: > 0 } env)
        {
            return Snapshotters.Select(root.Data, env).Name;
        }

        var cache = Path.Combine(root.Data, "storage-driver");
        var known = File.Exists(cache) ? File.ReadAllText(cache).Trim() : null;
        if (known is "overlay" or "vfs")
        {
            return known;
        }

        var name = Snapshotters.Select(root.Data).Name;
        var tmp = cache + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(tmp, name + "\n");
        File.Move(tmp, cache, overwrite: true);
        return name;
    }

    /// <summary><c>minidock mount</c>: the merged rootfs path, mounting it when needed.</summary>
    public string Mount(ContainerRow row)
    {
        using var held = Lock(row.Id);
        return SnapshotterOf(row).Mount(Paths.Dir(row.Id), LowerDirs(row));
    }

    /// <summary><c>minidock unmount</c>: refused while the container runs (its processes use the mount).</summary>
    public void Unmount(ContainerRow row)
    {
        if (ContainerStates.IsActive(Refresh(row)))
        {
            throw new ContainerException($"container {row.Name} is running: stop it before unmounting its rootfs");
        }

        using var held = Lock(row.Id);
        SnapshotterOf(row).Unmount(Paths.Dir(row.Id));
    }

    /// <summary>
    /// Starts the container's process: mounts the snapshot, builds config.json, and has the runtime engine create
    /// and start it with stdio the caller owns. The calling process becomes the container's owner.
    /// </summary>
    public Launched Launch(ContainerRow row, bool restart = false)
    {
        var o = RunOptionsJson.Read(row.Options);
        var dir = Paths.Dir(row.Id);
        using var held = Lock(row.Id);
        if (db.Get(row.Id) is null)
        {
            throw new ContainerException($"No such container: {row.Id}");
        }

        if (Runtime.Exists(row.Id) || Directory.Exists(Runtime.Dir(row.Id)))
        {
            // Left by an owner killed between create and start, or by a crash: never reuse it. A dir without
            // state.json (killed between the runtime's mkdir and its first write) would make create fail "already exists".
            Delete.Run(Runtime, row.Id, force: true, Trace.Off);
        }

        // A run killed before its teardown left its network behind: not reused, undone.
        DetachNetwork(row.Id);
        var snap = SnapshotterOf(row);
        Trace.Step("container locked, runtime state checked");
        var rootfs = snap.Mount(dir, LowerDirs(row));
        Trace.Step($"{snap.Name} rootfs mounted at {rootfs}");
        var imageConfig = ImageConfigOf(row);
        NetworkPlan? network;
        try
        {
            network = AttachNetwork(row, o, imageConfig);
        }
        catch
        {
            snap.Unmount(dir);
            throw;
        }

        if (network is not null)
        {
            Trace.Step($"network {o.Network} attached");
        }

        var previous = ResolvedConfig.Parse(row.Resolved);
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        var remap = (snap as OverlaySnapshotter)?.Remap;
        BundleResult bundle;
        try
        {
            bundle = BundleBuilder.Build(new BundleInputs
            {
                Image = imageConfig,
                Options = o,
                Network = network,
                ContainerId = row.Id,
                RootPath = rootfs,
                BundleDir = dir,
                NamedVolume = name =>
                {
                    if (Volumes.Get(name) is null)
                    {
                        fresh.Add(name);
                    }

                    var mountpoint = Volumes.Create(name, anonymous: IsAnonymousName(name)).Mountpoint;
                    if (fresh.Contains(name) && remap is not null)
                    {
                        // A new volume belongs to the remapped root, as with Docker's userns-remap.
                        Libc.fchownat(Consts.AtFdCwd, mountpoint, remap.HostUid, remap.HostGid, 0);
                        IdmappedLayers.GrantTraverse(Path.GetDirectoryName(mountpoint)!, remap);
                    }

                    return mountpoint;
                },
                InitBinary = o.Init ? FindTini() : null,
                ExistingAnonymousVolumes = previous?.Mounts.Where(m => m.Anonymous && m.Name is not null).ToDictionary(m => m.Destination, m => m.Name!),
            });
        }
        catch
        {
            DetachNetwork(row.Id);
            snap.Unmount(dir);
            throw;
        }

        foreach (var m in bundle.Mounts.Where(m => m.Name is not null && fresh.Contains(m.Name)))
        {
            CopyUp(rootfs, m.Destination, m.Source);
        }

        Trace.Step("config.json built");
        var (stdinR, stdinW) = o.Interactive && !o.Tty ? Sys.Pipe() : (Sys.Open("/dev/null", OpenFlags.RdOnly), -1);
        var (outR, outW) = o.Tty ? (-1, -1) : Sys.Pipe();
        var (errR, errW) = o.Tty ? (-1, -1) : Sys.Pipe();
        var (consoleOurs, consoleChild) = o.Tty ? Sys.SocketPair() : (-1, -1);
        ContainerRecord record;
        int master = -1;
        try
        {
            record = MiniDock.Runtime.Lifecycle.Create.Run(Runtime, new CreateOptions
            {
                Id = row.Id,
                Bundle = dir,
                ConsoleFd = consoleChild,
                Stdio = o.Tty ? null : [stdinR, outW, errW],
            }, Trace);

            // Create closed the console socket's child end: closing it again below would close whatever reused its
            // number, which is the pty master that ReceiveFd is about to return.
            consoleChild = -1;
            if (o.Tty)
            {
                master = UnixSocket.ReceiveFd(consoleOurs, out _);
            }

            if (o.Network == "none")
            {
                Networks.Loopback.Up(record.Pid);
                Trace.Step("lo up in the container's network namespace");
            }
        }
        catch (Exception e)
        {
            foreach (var fd in new[] { stdinW, outR, errR, master })
            {
                Sys.Close(fd);
            }

            if (Runtime.Exists(row.Id))
            {
                // Created, then a later step failed: the parked init and its cgroup go too.
                Delete.Run(Runtime, row.Id, force: true, Trace.Off);
            }

            DetachNetwork(row.Id);
            snap.Unmount(dir);
            var code = ExitCodeOf(e);
            db.Update(row.Id, r =>
            {
                r.Error = e.Message;
                r.ExitCode = code;
                return true;
            });
            throw new ContainerException(e.Message, code);
        }
        finally
        {
            foreach (var fd in new[] { stdinR, outW, errW, consoleChild, consoleOurs })
            {
                Sys.Close(fd);
            }
        }

        var self = Environment.ProcessId;
        db.Update(row.Id, r =>
        {
            r.Pid = record.Pid;
            r.PidStart = (long)record.InitStartTime;
            r.MonitorPid = self;
            r.MonitorStart = (long)(Processes.StartTime(self) ?? 0);
            r.Resolved = ResolvedConfig.From(bundle).ToJson();
            r.StoppedByUser = restart && r.StoppedByUser;
            r.Error = null;
            return true;
        });
        Trace.Step("container recorded with its pid");
        try
        {
            Start.Run(Runtime, record, Trace);
        }
        catch (Exception e)
        {
            Delete.Run(Runtime, record, force: true, Trace.Off);
            DetachNetwork(row.Id);
            snap.Unmount(dir);
            db.Update(row.Id, r =>
            {
                r.Pid = 0;
                r.Error = e.Message;
                return true;
            });
            Sys.Close(master);
            throw new ContainerException(e.Message);
        }

        db.Update(row.Id, r =>
        {
            r.State = "running";
            r.StartedAt = DateTime.UtcNow.Ticks;
            if (restart)
            {
                r.RestartCount++;
            }

            return true;
        });
        Trace.Step("container running");
        return new Launched { Pid = record.Pid, StdinWrite = stdinW, StdoutRead = outR, StderrRead = errR, PtyMaster = master };
    }

    /// <summary>
    /// The owner's last step for one run of the process: record its exit, then free what it held (the runtime's
    /// state and cgroup, the overlay mount). Returns false when the container was removed meanwhile.
    /// </summary>
    public bool Finish(ContainerRow row, int exitCode, string? error = null)
    {
        using var held = TryLock(row.Id);
        if (held is null)
        {
            return false;
        }

        Trace.Step($"exit {exitCode} seen");
        var oom = OomKilled(row.Id);
        Cleanup(row);
        Trace.Step("runtime state, cgroup and mount released");
        return db.Update(row.Id, r =>
        {
            r.State = "exited";
            r.ExitCode = exitCode;
            r.OomKilled = oom;
            r.Error = error;
            r.Pid = 0;
            r.PidStart = 0;
            r.FinishedAt = DateTime.UtcNow.Ticks;
            return true;
        }) is not null;
    }

    /// <summary>
    /// <c>stop</c>: the stop signal, then SIGKILL after the timeout (Docker's semantics); a stopped container is left
    /// alone. Returns once the exit is recorded.
    /// </summary>
    public void Stop(ContainerRow row, int? timeout)
    {
        var s = Refresh(row);
        if (!ContainerStates.IsActive(s) && s != ContainerState.Created)
        {
            return;
        }

        MarkStoppedByUser(row.Id);
        var resolved = ResolvedConfig.Parse(row.Resolved);
        var seconds = timeout ?? resolved?.StopTimeout ?? 10;
        if (row.Pid > 0 && Runtime.Exists(row.Id))
        {
            if (s == ContainerState.Paused)
            {
                StateStore.Cgroup(Runtime.Load(row.Id)).Thaw();
            }

            TrySignal(row, MiniDock.Runtime.Lifecycle.Kill.ParseSignal(resolved?.StopSignal ?? "SIGTERM"), all: false);
            if (seconds < 0 || !Processes.WaitGone(row.Pid, (ulong)row.PidStart, seconds * 1000))
            {
                TrySignal(row, Consts.SigKill, all: true);
                Processes.WaitGone(row.Pid, (ulong)row.PidStart, 10_000);
            }
        }

        WaitRecorded(row.Id);
    }

    /// <summary><c>kill [-s SIG]</c>: only a running container; the restart policy will not bring it back.</summary>
    public void Kill(ContainerRow row, string signal)
    {
        var sig = MiniDock.Runtime.Lifecycle.Kill.ParseSignal(signal);
        var s = Refresh(row);
        if (s is not (ContainerState.Running or ContainerState.Paused))
        {
            throw new ContainerException($"Cannot kill container: {row.Name}: container {row.Id} is not running");
        }

        MarkStoppedByUser(row.Id);
        TrySignal(row, sig, all: false);
        if (s == ContainerState.Paused)
        {
            // Docker's kill of a paused container: the signal is queued, then the thaw delivers it.
            ThawQuietly(row);
        }

        if (sig == Consts.SigKill)
        {
            Processes.WaitGone(row.Pid, (ulong)row.PidStart, 10_000);
            WaitRecorded(row.Id);
        }
    }

    /// <summary>
    /// <c>wait</c>: blocks until the container is no longer running and returns its exit code. Polls the row,
    /// through <see cref="Refresh"/>, so it also ends when the owner of the container died.
    /// </summary>
    public int Wait(ContainerRow row, CancellationToken ct)
    {
        while (true)
        {
            var now = db.Get(row.Id);
            if (now is null)
            {
                return row.ExitCode;
            }

            var s = Refresh(now);
            if (s is ContainerState.Exited or ContainerState.Dead or ContainerState.Removing || (s == ContainerState.Created && now.Pid == 0 && now.StartedAt > 0))
            {
                return db.Get(row.Id)?.ExitCode ?? now.ExitCode;
            }

            ct.WaitHandle.WaitOne(50);
            ct.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// <c>rm [-f] [-v]</c>: kills an active container only with force; then its runtime state, snapshot, bundle, log
    /// and (with -v or --rm) anonymous volumes go, and the row last, so an interrupted rm can simply be repeated.
    /// </summary>
    public void Remove(ContainerRow row, bool force, bool volumes)
    {
        var s = Refresh(row);
        if (db.Get(row.Id) is null)
        {
            return;
        }

        if (!force)
        {
            ContainerStates.RequireRemovable(row, s);
        }

        if (ContainerStates.IsActive(s) || (s == ContainerState.Created && row.Pid > 0))
        {
            MarkStoppedByUser(row.Id);
            TrySignal(row, Consts.SigKill, all: true);
            Processes.WaitGone(row.Pid, (ulong)row.PidStart, 10_000);
            WaitRecorded(row.Id);
        }

        // No directory to lock: a create killed before making it, or an rm killed after deleting it.
        using (TryLock(row.Id))
        {
            db.Update(row.Id, r =>
            {
                r.State = "removing";
                return true;
            });
            Cleanup(row);
            SnapshotterOf(row).Remove(Paths.Dir(row.Id));
            if (volumes)
            {
                foreach (var m in ResolvedConfig.Parse(row.Resolved)?.Mounts ?? [])
                {
                    if (m.Anonymous && m.Name is not null && Volumes.Get(m.Name) is not null)
                    {
                        Volumes.Remove(m.Name, _ => false);
                    }
                }
            }

            // Still under the lock: a start waiting for it finds the row gone, never a half-deleted directory.
            if (Directory.Exists(Paths.Dir(row.Id)))
            {
                Directory.Delete(Paths.Dir(row.Id), recursive: true);
            }

            db.Delete(row.Id);
        }

        Trace.Step("container removed");
    }

    /// <summary>A container made from the image (a running one first), for rmi's refusal; null when none.</summary>
    public (string Container, bool Running)? ImageUser(string imageId)
    {
        var users = db.All().Where(r => r.ImageId == imageId).ToList();
        if (users.Count == 0)
        {
            return null;
        }

        var running = users.FirstOrDefault(r => ContainerStates.IsActive(Refresh(r)));
        return running is not null ? (running.Id, true) : (users[0].Id, false);
    }

    /// <summary>True when a container's resolved mounts use the named volume.</summary>
    public bool VolumeInUse(string name)
        => db.All().Any(r => ResolvedConfig.Parse(r.Resolved)?.Mounts.Any(m => m.Name == name) == true
                             || RunOptionsJson.Read(r.Options).Volumes.Any(v => v.StartsWith(name + ":", StringComparison.Ordinal)));

    /// <summary>
    /// Docker's volume copy-up: a volume created for this container starts with what the image has at its
    /// destination (contents, owner and mode), so <c>-v data:/home/dev</c> keeps the image's files and ownership.
    /// The image side is resolved inside the rootfs (SecureJoin), never through a symlink out of it.
    /// </summary>
    private static void CopyUp(string rootfs, string destination, string volumeData)
    {
        var rootFd = Sys.Open(rootfs, OpenFlags.Path | OpenFlags.Directory);
        try
        {
            var fd = SecureJoin.TryOpen(rootFd, destination, OpenFlags.Directory);
            if (fd < 0)
            {
                return;
            }

            var st = FsAt.FStat(fd);
            Sys.Close(fd);
            Copy.ContainerCopy.FromContainer(rootfs, destination.TrimEnd('/') + "/.", volumeData);
            Sys.Check(Libc.fchownat(Consts.AtFdCwd, volumeData, st.Uid, st.Gid, Consts.AtSymlinkNoFollow), $"chown {volumeData}");
            File.SetUnixFileMode(volumeData, (UnixFileMode)(st.Mode & 0xfff));
        }
        finally
        {
            Sys.Close(rootFd);
        }
    }

    /// <summary>Docker's exit codes for a failed start: 127 command not found, 126 not executable, else 125.</summary>
    public static int ExitCodeOf(Exception e)
    {
        var m = e.Message;
        if (m.Contains("chdir to cwd", StringComparison.Ordinal))
        {
            // runc's wording, which Docker reports as 126 (the command could not be invoked there).
            return 126;
        }

        if (m.Contains("executable file not found", StringComparison.Ordinal) || m.Contains("no such file or directory", StringComparison.Ordinal))
        {
            return 127;
        }

        return m.Contains("permission denied", StringComparison.Ordinal) ? 126 : e is ContainerException ce ? ce.ExitCode : 125;
    }

    /// <summary>Debian's tini-static, what Docker ships as docker-init.</summary>
    public static string? FindTini()
        => new[] { Environment.GetEnvironmentVariable("MINIDOCK_INIT"), "/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/libexec/docker/docker-init" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));

    /// <summary>Exclusive lock on the container's directory until disposed (blocks).</summary>
    public IDisposable Lock(string id) => TryLock(id) ?? throw new ContainerException($"No such container: {id}");

    private static bool IsAnonymousName(string name) => name.Length == 64 && name.All(char.IsAsciiHexDigitLower);

    private FdLock? TryLock(string id)
    {
        var fd = Libc.open(Paths.Dir(id), OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.CloExec, 0);
        if (fd < 0)
        {
            return null;
        }

        Libc.flock(fd, Consts.LockEx);
        return new FdLock(fd);
    }

    private bool IsFrozen(ContainerRow row)
    {
        try
        {
            return Runtime.Exists(row.Id) && StateStore.Cgroup(Runtime.Load(row.Id)).IsFrozen();
        }
        catch (RuntimeError)
        {
            return false;
        }
    }

    private void MarkStoppedByUser(string id) => db.Update(id, r =>
    {
        r.StoppedByUser = true;
        return true;
    });

    private void TrySignal(ContainerRow row, int sig, bool all)
    {
        try
        {
            if (Runtime.Exists(row.Id))
            {
                MiniDock.Runtime.Lifecycle.Kill.Run(Runtime, row.Id, sig, all, Trace.Off);
                return;
            }
        }
        catch (RuntimeError)
        {
            // Gone meanwhile: fall through to the PID, guarded by its start time.
        }

        if (Processes.IsAlive(row.Pid, (ulong)row.PidStart))
        {
            Libc.kill(row.Pid, sig);
        }
    }

    /// <summary>Waits for the owner to record the exit (or finalizes it here when the owner is gone).</summary>
    private void WaitRecorded(string id)
    {
        var deadline = Environment.TickCount64 + 15_000;
        while (Environment.TickCount64 < deadline)
        {
            var now = db.Get(id);
            if (now is null || !ContainerStates.IsActive(Refresh(now)))
            {
                return;
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>An active row whose process and owner are both dead: record the lost exit and clean up.</summary>
    private void FinalizeOrphan(string id)
    {
        using var held = TryLock(id);
        var row = db.Get(id);
        if (held is null || row is null)
        {
            return;
        }

        // Re-check under the lock: the owner may have finished meanwhile.
        var s = ContainerStates.Parse(row.State);
        if (!ContainerStates.IsActive(s) && !(s == ContainerState.Created && row.Pid > 0))
        {
            return;
        }

        if ((row.Pid > 0 && Processes.IsAlive(row.Pid, (ulong)row.PidStart)) || (row.MonitorPid > 0 && Processes.IsAlive(row.MonitorPid, (ulong)row.MonitorStart)))
        {
            return;
        }

        // A created row whose runtime state lost its exec.fifo was started: its owner died in start, before recording it.
        var wasStarted = s != ContainerState.Created || (Runtime.Exists(id) && !File.Exists(Runtime.FifoPath(id)));
        Cleanup(row);
        db.Update(id, r =>
        {
            r.State = wasStarted ? "exited" : "created";
            r.ExitCode = wasStarted ? LostExitCode : r.ExitCode;
            r.Error = wasStarted ? "exit status lost: the process that owned the container was killed" : r.Error;
            r.Pid = 0;
            r.PidStart = 0;
            r.FinishedAt = wasStarted ? DateTime.UtcNow.Ticks : r.FinishedAt;
            return true;
        });
        if (wasStarted && RunOptionsJson.Read(row.Options).AutoRemove)
        {
            held.Dispose();
            Remove(db.Get(id) ?? row, force: true, volumes: true);
        }
    }

    /// <summary>True while the container's init still waits on exec.fifo (it has not exec'd the user's command).</summary>
    /// <summary>Whether the OOM killer struck in the container's cgroup during this run (read before the cgroup goes).</summary>
    private bool OomKilled(string id)
    {
        try
        {
            return Runtime.Exists(id) && StateStore.Cgroup(Runtime.Load(id)).OomKills() > 0;
        }
        catch (RuntimeError)
        {
            return false;
        }
    }

    private static bool IsParkedInit(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline") == "minidock\0init\0";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // gone meanwhile: the next look finalizes it
        }
    }

    /// <summary>
    /// A created row whose process runs although its owner died before recording the start: record it now, so that
    /// its end is an exit (with the lost status, and --rm honoured), not a return to created.
    /// </summary>
    private void MarkStartedIfOrphaned(ContainerRow row)
    {
        if (row.MonitorPid > 0 && Processes.IsAlive(row.MonitorPid, (ulong)row.MonitorStart))
        {
            return; // the owner records it itself
        }

        db.Update(row.Id, r =>
        {
            if (r.State != "created" || r.Pid != row.Pid)
            {
                return false;
            }

            r.State = "running";
            r.StartedAt = DateTime.UtcNow.Ticks;
            return true;
        });
    }

    /// <summary>Runtime state and cgroup, its network, then the overlay mount: what a stopped container must not keep.</summary>
    private void Cleanup(ContainerRow row)
    {
        if (Runtime.Exists(row.Id) || Directory.Exists(Runtime.Dir(row.Id)))
        {
            try
            {
                Delete.Run(Runtime, row.Id, force: true, Trace);
            }
            catch (RuntimeError)
            {
                // A half-written state dir: remove it as it is.
                Runtime.Remove(row.Id);
            }
        }

        DetachNetwork(row.Id);
        Trace.Step("network detached");
        SnapshotterOf(row).Unmount(Paths.Dir(row.Id));
    }

    private sealed class FdLock(int fd) : IDisposable
    {
        private int _fd = fd;

        public void Dispose()
        {
            Sys.Close(_fd);
            _fd = -1;
        }
    }
}
