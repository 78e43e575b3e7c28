using System.Globalization;
using System.Text.Json;
using MiniDock.Native;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Init;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>What <c>create</c> (and <c>run</c>) are asked for.</summary>
public sealed class CreateOptions
{
    public required string Id { get; init; }

    public required string Bundle { get; init; }

    public string? PidFile { get; init; }

    public string? ConsoleSocket { get; init; }

    public int PreserveFds { get; init; }

    /// <summary>An already-connected console socket fd (a foreground run proxies the pty itself).</summary>
    public int ConsoleFd { get; init; } = -1;

    /// <summary>
    /// fds that become the init's (and so the process's) stdin, stdout and stderr; null: ours. The
    /// container monitor hands pipes here so that it owns the container's output (logs, attach).
    /// </summary>
    public IReadOnlyList<int>? Stdio { get; init; }
}

/// <summary>
/// runtime.md#create: everything but running process.args. The state dir, exec.fifo and cgroups
/// first; then a dedicated thread joins/unshares the namespaces and posix_spawns this binary as
/// <c>init</c>; the init is placed in its cgroups, configured over a socket, and reports ready
/// while parked on the fifo. On any failure nothing is left behind.
/// </summary>
public static class Create
{
    public static ContainerRecord Run(StateStore store, CreateOptions o, Trace trace)
    {
        StateStore.ValidateId(o.Id);
        var bundle = Path.GetFullPath(o.Bundle);
        var spec = LoadSpec(bundle, out var raw);
        SpecValidator.Validate(spec, bundle, compileSeccomp: false);
        var lastCap = Caps.LastCap();
        Security.Capabilities.RequireHeld(Security.Capabilities.Parse(spec.Process?.Capabilities, lastCap), Caps.Bounding(lastCap));
        trace.Step($"config.json read and validated ({bundle})");

        store.CreateDir(o.Id);
        using var held = store.Lock(o.Id);
        var record = new ContainerRecord
        {
            Id = o.Id,
            Bundle = bundle,
            Rootfs = Path.GetFullPath(spec.Root!.Path, bundle),
            Created = DateTime.UtcNow,
            Spec = spec,
            SpecJson = raw,
            CgroupPath = CgroupFs.ResolvePath(spec.Linux?.CgroupsPath, o.Id),
        };
        ICgroupManager? cgroup = null;
        var pid = 0;
        try
        {
            cgroup = CgroupFs.For(record.CgroupPath);
            record.Cgroup = cgroup;

            // The init boots (the .NET runtime: milliseconds) while the state and exec.fifo are written.
            pid = SpawnInit(record, spec, o, store, cgroup, trace, spawned =>
            {
                pid = spawned;
                store.Save(record);
                Sys.Check(Libc.mkfifo(store.FifoPath(o.Id), 0x182 /* 0602 */), "mkfifo exec.fifo");
                if (spec.Linux?.Namespaces?.Any(n => n.Type == "user") == true)
                {
                    // The init is root only in its user namespace: it opens the fifo as the host id that
                    // container root maps to, so that id owns it (as runc chowns exec.fifo).
                    var (uid, gid) = UserNamespace.HostRoot(spawned);
                    Sys.Check(Libc.fchownat(Consts.AtFdCwd, store.FifoPath(o.Id), uid, gid, 0), "chown exec.fifo");
                }

                trace.Step("state.json and exec.fifo written");
            });
            record.Pid = pid;
            record.InitStartTime = Processes.StartTime(pid) ?? 0;
            record.Status = "created";
            store.Save(record);
            if (o.PidFile is { } pf)
            {
                WritePidFile(pf, pid);
            }

            return record;
        }
        catch
        {
            if (pid > 0)
            {
                Libc.kill(pid, Consts.SigKill);
                Sys.WaitPid(pid, out _);
            }

            cgroup?.Destroy();
            store.Remove(o.Id);
            throw;
        }
    }

    public static RuntimeSpec LoadSpec(string bundle) => LoadSpec(bundle, out _);

    public static RuntimeSpec LoadSpec(string bundle, out byte[] raw)
    {
        var path = Path.Combine(bundle, "config.json");
        try
        {
            raw = File.ReadAllBytes(path);
            return SpecReader.Parse(raw);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RuntimeError($"{path} does not exist");
        }
        catch (JsonException e)
        {
            throw new RuntimeError($"{path}: invalid JSON: {e.Message}");
        }
    }

    /// <summary>Writes a pid file atomically (temp + rename), as containerd and podman expect.</summary>
    public static void WritePidFile(string path, int pid)
    {
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp");
        File.WriteAllText(tmp, pid.ToString(CultureInfo.InvariantCulture));
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>
    /// Spawns the init, then works while it boots: the config goes first (the init parses it
    /// while we make the cgroups), then the init is placed in its cgroups and told to go on.
    /// </summary>
    private static int SpawnInit(ContainerRecord record, RuntimeSpec spec, CreateOptions o, StateStore store, ICgroupManager cgroup, Trace trace, Action<int> spawned)
    {
        var ns = Namespaces.Parse(spec.Linux?.Namespaces);
        if (ns.UsesNsexec && !NsExec.Available)
        {
            throw new RuntimeError("user namespaces need the NativeAOT minidock binary: this build has no nsexec constructor (src/MiniDock.Native/native/nsexec.c)");
        }

        // With a user namespace the child enters every namespace itself (nsexec.c), from these fds.
        var nsexecJoins = ns.UsesNsexec ? ns.NsexecJoins() : [];
        var joinFds = ns.UsesNsexec ? nsexecJoins.Select(j => UserNamespace.OpenNsFd(j.Path)).ToList() : ns.OpenJoinFds();
        var (parentSock, childSock) = Sys.SocketPair();
        var consoleFd = o.ConsoleSocket is { } cs ? UnixSocket.Connect(cs) : o.ConsoleFd;
        var initFd = 3 + o.PreserveFds;
        var fds = new List<(int, int)>();

        // stdio first: the dup2s run in order, so a stdio fd numbered 3 or 4 is used before initFd overwrites it.
        for (var i = 0; o.Stdio is { } stdio && i < stdio.Count && i < 3; i++)
        {
            if (stdio[i] >= 0)
            {
                fds.Add((i, stdio[i]));
            }
        }

        fds.Add((initFd, childSock));
        if (consoleFd >= 0)
        {
            fds.Add((initFd + 1, consoleFd));
        }

        for (var i = 0; i < o.PreserveFds; i++)
        {
            fds.Add((3 + i, 3 + i));
        }

        List<string> env = ["DOTNET_EnableDiagnostics=0", $"{InitProcess.FdEnv}={initFd}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"];
        if (ns.UsesNsexec)
        {
            var joins = new List<(int, int)>();
            for (var i = 0; i < joinFds.Count; i++)
            {
                fds.Add((initFd + 2 + i, joinFds[i]));
                joins.Add((initFd + 2 + i, nsexecJoins[i].Flag));
            }

            env.Add(UserNamespace.NsexecEnv(initFd, ns.Unshare, joins));
        }

        var request = new SpawnRequest
        {
            // From a read-only detached mount of this binary: the init is this binary until it execs the
            // container's program, and a program that resolves to /proc/self/exe must not get a writable host binary.
            Path = ExeGuard.Path ?? Sys.ReadLink("/proc/self/exe"),
            Args = ["minidock", "init"],
            Env = env,
            Fds = fds,
        };

        // The thread that unshares must do nothing else but spawn: after CLONE_NEWPID it cannot
        // create threads, and its namespaces are its own (design-notes §3).
        var pid = 0;
        long unshared = 0;
        Exception? error = null;
        trace.Step("spawning the init");
        if (ns.UsesNsexec)
        {
            // Nothing to unshare here: the child's constructor does it all, single-threaded.
            try
            {
                pid = Spawn.Start(request);
            }
            catch (SysException e)
            {
                error = e;
            }
        }
        else
        {
            var thread = new Thread(() =>
            {
                try
                {
                    ns.ApplyToThread(joinFds);
                    unshared = System.Diagnostics.Stopwatch.GetTimestamp();
                    pid = Spawn.Start(request);
                }
                catch (Exception e)
                {
                    error = e;
                }
            }, 256 * 1024);
            thread.Start();
            thread.Join();
        }

        foreach (var fd in joinFds)
        {
            Sys.Close(fd);
        }

        Sys.Close(childSock);
        Sys.Close(consoleFd);
        if (error is not null)
        {
            Sys.Close(parentSock);
            throw error is SysException se ? new RuntimeError($"start init: {se.Message}") : error;
        }

        if (ns.UsesNsexec)
        {
            pid = NsexecHandshake(parentSock, pid, spec, trace);
        }

        spawned(pid);
        trace.Step($"init spawned as pid {pid} (unshare 0x{ns.Unshare:x} done at {System.Diagnostics.Stopwatch.GetElapsedTime(trace.Start, unshared).TotalMilliseconds:F3} ms, {ns.Join.Count} joined)");
        try
        {
            var channel = new InitChannel(parentSock);
            SendConfig(channel, record, spec, o, store, pid, trace);
            cgroup.Create();
            record.CgroupCreated = cgroup.Created.ToList();
            cgroup.AddProcess(pid);
            trace.Step($"cgroup {record.CgroupPath} created, init placed ({string.Join(", ", cgroup.Directories.Take(2))}, ...)");
            if (spec.Process?.OomScoreAdj is { } adj)
            {
                File.WriteAllText($"/proc/{pid}/oom_score_adj", adj.ToString(CultureInfo.InvariantCulture));
            }

            // linux.seccomp is compiled once, here, and rides on "go": the init is still booting (its runtime start
            // and config parse take longer than a full Docker profile's compile), so this costs the critical path
            // nothing, where compiling before the spawn and again in the init cost it twice. A bad profile still
            // fails create: the init is killed and everything undone.
            var seccomp = spec.Linux?.Seccomp is { } sc ? SeccompFilter.Compile(sc) : null;
            if (seccomp is not null)
            {
                seccomp.Save(store.SeccompPath(record.Id));
                trace.Step($"seccomp compiled: {seccomp.Program.Length} BPF instructions");
            }

            channel.Send(new InitMessage { Type = "go", SeccompProgram = seccomp?.ToBytes(), SeccompFlags = seccomp?.Flags ?? 0 });
            if (ns.UsesNsexec)
            {
                // The mapped root cannot walk the 0700 state dir to exec.fifo: it gets an O_PATH fd instead.
                var fifo = Sys.Open(store.FifoPath(record.Id), OpenFlags.Path);
                UnixSocket.SendFd(parentSock, fifo, "fifo");
                Sys.Close(fifo);
            }

            Converse(channel, record, spec, pid, trace);

            // Limits go on once the init has built the rootfs (as runc does): the devices cgroup
            // would otherwise refuse the mknod of the very nodes linux.devices asks for.
            if (spec.Linux?.Resources is { } res)
            {
                cgroup.Set(res, spec.Linux.Devices);
                trace.Step("cgroup limits written");
            }
        }
        catch
        {
            Libc.kill(pid, Consts.SigKill);
            Sys.WaitPid(pid, out _);
            throw;
        }
        finally
        {
            Sys.Close(parentSock);
        }

        return pid;
    }

    /// <summary>
    /// nsexec.c's handshake: the maps are written when the child has made its user namespace, and
    /// the pid that comes back is the init's (the spawned process's CLONE_PARENT child when a pid
    /// namespace was entered, which is then our child too; the spawned one has exited and is reaped).
    /// </summary>
    private static int NsexecHandshake(int parentSock, int spawned, RuntimeSpec spec, Trace trace)
    {
        try
        {
            var pid = UserNamespace.Handshake(parentSock, spawned, spec.Linux);
            if (pid != spawned)
            {
                Sys.WaitPid(spawned, out _);
            }

            trace.Step($"nsexec: user namespace set up, init is pid {pid} (spawned {spawned})");
            return pid;
        }
        catch
        {
            Libc.kill(spawned, Consts.SigKill);
            Sys.WaitPid(spawned, out _);
            Sys.Close(parentSock);
            throw;
        }
    }

    private static void SendConfig(InitChannel channel, ContainerRecord record, RuntimeSpec spec, CreateOptions o, StateStore store, int pid, Trace trace)
    {
        channel.Send(new InitMessage
        {
            Type = "config",
            SpecJson = record.SpecJson,
            Id = record.Id,
            Bundle = record.Bundle,
            Rootfs = record.Rootfs,
            FifoPath = store.FifoPath(record.Id),
            CgroupPath = record.CgroupPath,
            HostPid = pid,
            Trace = trace.Enabled,
            TraceStart = trace.Start,
            ConsoleSocket = o.ConsoleSocket is not null || o.ConsoleFd >= 0,
            PreserveFds = o.PreserveFds,
        });
    }

    private static void Converse(InitChannel channel, ContainerRecord record, RuntimeSpec spec, int pid, Trace trace)
    {
        while (true)
        {
            var msg = channel.Receive() ?? throw new RuntimeError("container init exited during setup");
            switch (msg.Type)
            {
                case "trace":
                    trace.Step("  init: " + msg.Text![(msg.Text!.IndexOf(']') + 2)..]);
                    break;
                case "hooks":
                    // The deprecated prestart hooks see "created" (runtime-tools' hooks_stdin requires
                    // it, as runc's behaviour did); createRuntime sees "creating", as runtime.md says.
                    var state = record.ToOci(ContainerStatus.Created);
                    state.Pid = pid;
                    Hooks.RunAll("prestart", spec.Hooks?.Prestart, state, trace);
                    state.Status = ContainerStateMachine.Name(ContainerStatus.Creating);
                    Hooks.RunAll("createRuntime", spec.Hooks?.CreateRuntime, state, trace);
                    channel.Send(new InitMessage { Type = "continue" });
                    break;
                case "ready":
                    trace.Step("init ready, parked on exec.fifo");
                    return;
                case "error":
                    throw new RuntimeError(msg.Text ?? "container init failed");
            }
        }
    }
}
