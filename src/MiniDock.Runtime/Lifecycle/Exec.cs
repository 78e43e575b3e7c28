using MiniDock.Native;
using MiniDock.Runtime.Init;
using MiniDock.Runtime.Security;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>What <c>exec</c> is asked to run.</summary>
public sealed class ExecOptions
{
    public required string Id { get; init; }

    public required ProcessSpec Process { get; init; }

    public string? ConsoleSocket { get; init; }

    public string? PidFile { get; init; }

    public bool Detach { get; init; }

    public int PreserveFds { get; init; }

    /// <summary>fds for the process's stdin, stdout and stderr (ignored with a terminal); null: ours.</summary>
    public IReadOnlyList<int>? Stdio { get; init; }
}

/// <summary>
/// runtime.md has no exec; this is runc's. A fresh thread joins the container's namespaces
/// (mount last), takes the process's user and capabilities (per-thread credentials), and
/// posix_spawns the program, which inherits all of that. No host fd beyond stdio reaches it.
/// </summary>
public static class Exec
{
    private static readonly (string Spec, string Proc, int Flag)[] Kinds =
    [
        ("cgroup", "cgroup", Clone.NewCgroup), ("ipc", "ipc", Clone.NewIpc), ("uts", "uts", Clone.NewUts),
        ("network", "net", Clone.NewNet), ("pid", "pid", Clone.NewPid), ("mount", "mnt", Clone.NewNs),
    ];

    public static int Run(StateStore store, ExecOptions o, Trace trace)
    {
        var r = store.Load(o.Id);
        ContainerStateMachine.Require(o.Id, store.Status(r), LifecycleOp.Exec);
        var p = o.Process;
        if (p.Args is not { Count: > 0 })
        {
            throw new RuntimeError("exec: no command given");
        }

        var lastCap = Caps.LastCap();
        var caps = Capabilities.Parse(p.Capabilities, lastCap);
        Capabilities.RequireHeld(caps, Caps.Bounding(lastCap));
        var rlimits = Rlimits.Parse(p.Rlimits);
        var seccomp = r.Spec.Linux?.Seccomp is { } sc ? CompiledFilter.Load(store.SeccompPath(o.Id)) ?? SeccompFilter.Compile(sc) : null;
        if (p.Terminal && o.ConsoleSocket is null && o.Detach)
        {
            throw new RuntimeError("a detached exec with a terminal needs --console-socket");
        }

        var nsTypes = (r.Spec.Linux?.Namespaces ?? []).Select(n => n.Type).ToHashSet();
        if (nsTypes.Contains("user"))
        {
            return RunInUserNs(store, r, o, nsTypes, trace);
        }

        var ns = Kinds.Where(k => nsTypes.Contains(k.Spec))
            .Select(k => (k.Proc, Fd: Sys.Open($"/proc/{r.Pid}/ns/{k.Proc}", OpenFlags.RdOnly), k.Flag)).ToList();
        var proxyPair = p.Terminal && o.ConsoleSocket is null ? ConsoleProxy.Pair() : (Ours: -1, Child: -1);
        var consoleFd = o.ConsoleSocket is { } cs ? UnixSocket.Connect(cs) : proxyPair.Child;
        var cgroup = StateStore.Cgroup(r);
        var v1Dirs = cgroup.Directories.Where(d => !d.Contains("/unified", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "tasks"))).ToList();

        // Through the exec shim (ExeGuard, nsexec.c) where the binary has one: opened here, in our own mount
        // and pid namespaces, where /proc/self is us.
        var shim = NsExec.Available ? ExeGuard.Path : null;
        var (errRead, errWrite) = shim is null ? (-1, -1) : Sys.Pipe();
        var viaShim = false;
        var pid = 0;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                // Born inside the container's v1 cgroups: move this thread first.
                var tid = Sys.Gettid().ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (var d in v1Dirs)
                {
                    File.WriteAllText(Path.Combine(d, "tasks"), tid);
                }

                Sys.Unshare(Clone.Fs);
                foreach (var (name, fd, flag) in ns)
                {
                    Sys.Setns(fd, flag, name);
                }

                if (!nsTypes.Contains("mount"))
                {
                    // The container shares our mount namespace and lives in a chroot: enter it too.
                    LinuxSyscalls.Instance.Chroot(r.Rootfs);
                    Sys.Check(Libc.chdir("/"), "chdir /");
                }

                Sys.Check(Libc.chdir(p.Cwd), $"chdir to cwd {p.Cwd}");
                var path = InitProcess.LookPath(p.Args[0], p.Env);
                var opens = new List<(int, string)>();
                var fds = new List<(int, int)>();
                for (var i = 0; !p.Terminal && o.Stdio is { } stdio && i < stdio.Count && i < 3; i++)
                {
                    if (stdio[i] >= 0)
                    {
                        fds.Add((i, stdio[i]));
                    }
                }

                if (p.Terminal)
                {
                    var (master, slave) = Pty.Open("/dev/ptmx");
                    if (p.ConsoleSize is { } size)
                    {
                        Pty.SetSize(master, size.Height, size.Width);
                    }

                    UnixSocket.SendFd(consoleFd, master, "/dev/ptmx");
                    Sys.Close(master);
                    opens.Add((0, slave));
                    fds.Add((1, 0));
                    fds.Add((2, 0));
                }

                for (var i = 0; i < o.PreserveFds; i++)
                {
                    fds.Add((3 + i, 3 + i));
                }

                // rlimits are per process and survive the spawn; setting them on the child afterwards
                // would need CAP_SYS_RESOURCE once it has switched user. This CLI only waits from here on.
                foreach (var (res, soft, hard) in rlimits)
                {
                    Sys.SetRlimit(res, soft, hard);
                }

                // Nothing of ours may reach the process: everything above stdio (and the preserved
                // fds) becomes close-on-exec here, before a seccomp filter could refuse close_range.
                Sys.CloseRangeCloExec(3 + o.PreserveFds);
                ProcessSecurity.Apply(p, caps, lastCap, seccomp);
                ProcessSecurity.InstallLateSeccomp(p, seccomp);
                var direct = new SpawnRequest
                {
                    Path = path,
                    Args = p.Args,
                    Env = p.Env ?? [],
                    Opens = opens,
                    Fds = fds,
                    NewSession = p.Terminal,
                };
                try
                {
                    // The shim execs PATH at once (CVE-2019-5736: see ExeGuard); it reports a failed execve on the pipe.
                    var errFd = 3 + o.PreserveFds;
                    pid = shim is null ? Spawn.Start(direct) : Spawn.Start(new SpawnRequest
                    {
                        Path = shim,
                        Args = p.Args,
                        Env = [.. p.Env ?? [], $"{ExeGuard.ShimEnv}={errFd}:{path}"],
                        Opens = opens,
                        Fds = [.. fds, (errFd, errWrite)],
                        NewSession = p.Terminal,
                    });
                    viaShim = shim is not null;
                }
                catch (SysException e) when (shim is not null && e.Errno == 2 /* ENOENT */)
                {
                    // No /proc in the container to reach the shim through: spawn the program itself.
                    pid = Spawn.Start(direct);
                }
            }
            catch (Exception e)
            {
                error = e;
            }
        }, 256 * 1024);
        thread.Start();
        thread.Join();
        foreach (var (_, fd, _) in ns)
        {
            Sys.Close(fd);
        }

        Sys.Close(consoleFd);
        Sys.Close(errWrite);
        if (error is null && viaShim && ShimError(errRead) is { } errno)
        {
            Sys.WaitPid(pid, out _);
            error = new SysException($"exec {p.Args[0]}", errno);
        }

        Sys.Close(errRead);
        if (error is not null)
        {
            throw error is SysException se ? new RuntimeError($"exec failed: {se.Message}") : error;
        }

        trace.Step($"exec: pid {pid} spawned in {o.Id}'s namespaces");
        try
        {
            cgroup.AddProcess(pid);
        }
        catch (RuntimeError)
        {
            // The process may already have exited; v1 placement happened before the spawn.
        }

        return Finish(o, pid, proxyPair.Ours);
    }

    /// <summary>The errno the exec shim wrote before exiting 127, or null at EOF (its execve succeeded).</summary>
    private static int? ShimError(int fd)
    {
        Span<byte> buf = stackalloc byte[4];
        var got = 0;
        while (got < 4)
        {
            var n = Sys.Read(fd, buf[got..]);
            if (n <= 0)
            {
                break;
            }

            got += n;
        }

        return got == 4 ? BitConverter.ToInt32(buf) : null;
    }

    private static int Finish(ExecOptions o, int pid, int proxyFd)
    {
        if (o.PidFile is { } pf)
        {
            Create.WritePidFile(pf, pid);
        }

        if (o.Detach)
        {
            return 0;
        }

        using var proxy = proxyFd >= 0 ? ConsoleProxy.Receive(proxyFd) : null;
        using var fwd = new SignalForwarder(() => pid);
        Sys.WaitPid(pid, out var status);
        return Sys.ExitCode(status);
    }

    /// <summary>
    /// exec into a container with a user namespace: setns(user) needs a single-threaded process,
    /// so this binary is started as a helper whose nsexec constructor joins the user namespace and
    /// then the others (native/nsexec.c); <see cref="ExecInit"/> finishes in there and execs the
    /// process. The helper is placed in the container's cgroups before it may go on, so that what
    /// it forks into the pid namespace (our child, by CLONE_PARENT) is born in them.
    /// </summary>
    private static int RunInUserNs(StateStore store, ContainerRecord r, ExecOptions o, HashSet<string> nsTypes, Trace trace)
    {
        if (!NsExec.Available)
        {
            throw new RuntimeError("exec into a container with a user namespace needs the NativeAOT minidock binary (no nsexec constructor in this build)");
        }

        var p = o.Process;
        var joins = new List<(int Fd, int Flag)> { (UserNamespace.OpenNsFd($"/proc/{r.Pid}/ns/user"), Clone.NewUser) };
        joins.AddRange(Kinds.Where(k => nsTypes.Contains(k.Spec)).Select(k => (UserNamespace.OpenNsFd($"/proc/{r.Pid}/ns/{k.Proc}"), k.Flag)));
        var proxyPair = p.Terminal && o.ConsoleSocket is null ? ConsoleProxy.Pair() : (Ours: -1, Child: -1);
        var consoleFd = o.ConsoleSocket is { } cs ? UnixSocket.Connect(cs) : proxyPair.Child;
        var (parentSock, childSock) = Sys.SocketPair();
        var initFd = 3 + o.PreserveFds;
        var fds = new List<(int, int)>();
        for (var i = 0; !p.Terminal && o.Stdio is { } stdio && i < stdio.Count && i < 3; i++)
        {
            if (stdio[i] >= 0)
            {
                fds.Add((i, stdio[i]));
            }
        }

        for (var i = 0; i < o.PreserveFds; i++)
        {
            fds.Add((3 + i, 3 + i));
        }

        fds.Add((initFd, childSock));
        if (consoleFd >= 0)
        {
            fds.Add((initFd + 1, consoleFd));
        }

        var childJoins = new List<(int, int)>();
        for (var i = 0; i < joins.Count; i++)
        {
            fds.Add((initFd + 2 + i, joins[i].Fd));
            childJoins.Add((initFd + 2 + i, joins[i].Flag));
        }

        int helper;
        try
        {
            helper = Spawn.Start(new SpawnRequest
            {
                Path = ExeGuard.Path ?? Sys.ReadLink("/proc/self/exe"),
                Args = ["minidock", "init"],
                Env = ["DOTNET_EnableDiagnostics=0", $"{InitProcess.FdEnv}={initFd}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", UserNamespace.NsexecEnv(initFd, 0, childJoins)],
                Fds = fds,
            });
        }
        catch (SysException e)
        {
            Sys.Close(parentSock);
            throw new RuntimeError($"exec failed: {e.Message}");
        }
        finally
        {
            foreach (var (fd, _) in joins)
            {
                Sys.Close(fd);
            }

            Sys.Close(childSock);
            Sys.Close(consoleFd);
        }

        var pid = helper;
        try
        {
            StateStore.Cgroup(r).AddProcess(helper);
            pid = UserNamespace.Handshake(parentSock, helper, r.Spec.Linux);
            if (pid != helper)
            {
                Sys.WaitPid(helper, out _);
            }

            var channel = new InitChannel(parentSock);
            channel.Send(new InitMessage
            {
                Type = "exec",
                SpecJson = r.SpecJson,
                Id = r.Id,
                Bundle = r.Bundle,
                Rootfs = r.Rootfs,
                FifoPath = "",
                CgroupPath = r.CgroupPath,
                HostPid = r.Pid,
                PreserveFds = o.PreserveFds,
                ConsoleSocket = consoleFd >= 0,
                ProcessJson = StateJson.WriteProcess(p),
                Chroot = !nsTypes.Contains("mount"),
            });

            // EOF: the helper's execve closed its end (close-on-exec), so the process runs.
            if (channel.Receive() is { } reply)
            {
                throw new RuntimeError(reply.Type == "error" ? $"exec failed: {reply.Text}" : $"exec: unexpected {reply.Type} from the helper");
            }
        }
        catch
        {
            Libc.kill(pid, Consts.SigKill);
            Sys.WaitPid(pid, out _);
            Sys.Close(proxyPair.Ours);
            throw;
        }
        finally
        {
            Sys.Close(parentSock);
        }

        trace.Step($"exec: pid {pid} spawned in {o.Id}'s user namespace (helper {helper})");
        return Finish(o, pid, proxyPair.Ours);
    }
}
