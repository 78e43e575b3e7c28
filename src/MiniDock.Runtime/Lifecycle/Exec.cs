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
        var rlimits = Rlimits.Parse(p.Rlimits);
        var seccomp = r.Spec.Linux?.Seccomp is { } sc ? SeccompFilter.Compile(sc) : null;
        if (p.Terminal && o.ConsoleSocket is null && o.Detach)
        {
            throw new RuntimeError("a detached exec with a terminal needs --console-socket");
        }

        var nsTypes = (r.Spec.Linux?.Namespaces ?? []).Select(n => n.Type).ToHashSet();
        var ns = Kinds.Where(k => nsTypes.Contains(k.Spec))
            .Select(k => (k.Proc, Fd: Sys.Open($"/proc/{r.Pid}/ns/{k.Proc}", OpenFlags.RdOnly), k.Flag)).ToList();
        var proxyPair = p.Terminal && o.ConsoleSocket is null ? ConsoleProxy.Pair() : (Ours: -1, Child: -1);
        var consoleFd = o.ConsoleSocket is { } cs ? UnixSocket.Connect(cs) : proxyPair.Child;
        var cgroup = StateStore.Cgroup(r);
        var v1Dirs = cgroup.Directories.Where(d => !d.Contains("/unified", StringComparison.Ordinal) && File.Exists(Path.Combine(d, "tasks"))).ToList();

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
                pid = Spawn.Start(new SpawnRequest
                {
                    Path = path,
                    Args = p.Args,
                    Env = p.Env ?? [],
                    Opens = opens,
                    Fds = fds,
                    NewSession = p.Terminal,
                });
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

        if (o.PidFile is { } pf)
        {
            Create.WritePidFile(pf, pid);
        }

        if (o.Detach)
        {
            return 0;
        }

        using var proxy = proxyPair.Ours >= 0 ? ConsoleProxy.Receive(proxyPair.Ours) : null;
        using var fwd = new SignalForwarder(() => pid);
        Sys.WaitPid(pid, out var status);
        return Sys.ExitCode(status);
    }
}
