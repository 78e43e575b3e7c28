using MiniDock.Native;
using MiniDock.Runtime.Security;
using MiniDock.Runtime.Security.Seccomp;

namespace MiniDock.Runtime.Init;

/// <summary>
/// exec into a container that has a user namespace. setns into a user namespace needs a
/// single-threaded process, so <c>exec</c> cannot do it on a thread of its own as it does
/// otherwise (Lifecycle/Exec.cs): it starts this binary as <c>init</c> with the nsexec marker, the
/// constructor (native/nsexec.c) joins the container's user namespace and then the others, and
/// this takes over in them: it receives the <c>exec</c> frame, does what the exec thread does in
/// the plain case (chroot/cwd, rlimits, terminal, credentials, seccomp) and becomes the process
/// with execve. The runtime knows it worked when the socket reaches EOF (close-on-exec).
/// </summary>
public static class ExecInit
{
    public static int Run(InitChannel channel, InitMessage cfg)
    {
        var p = cfg.Process ?? throw new RuntimeError("exec: no process in the exec frame");
        var spec = cfg.Spec ?? throw new RuntimeError("exec: no container spec in the exec frame");
        var lastCap = Caps.LastCap();
        var caps = Capabilities.Parse(p.Capabilities, lastCap);
        var rlimits = Rlimits.Parse(p.Rlimits);
        var seccomp = spec.Linux?.Seccomp is { } sc ? SeccompFilter.Compile(sc) : null;
        if (cfg.Chroot)
        {
            // The container shares the runtime's mount namespace and lives in a chroot: enter it too.
            LinuxSyscalls.Instance.Chroot(cfg.Rootfs!);
            Sys.Check(Libc.chdir("/"), "chdir /");
        }

        Sys.Check(Libc.chdir(p.Cwd), $"chdir to cwd {p.Cwd}");
        var path = InitProcess.LookPath(p.Args![0], p.Env);
        foreach (var (res, soft, hard) in rlimits)
        {
            Sys.SetRlimit(res, soft, hard);
        }

        if (p.Terminal)
        {
            var (master, slave) = Pty.Open("/dev/ptmx");
            if (p.ConsoleSize is { } size)
            {
                Pty.SetSize(master, size.Height, size.Width);
            }

            var consoleFd = channel.Fd + 1;
            UnixSocket.SendFd(consoleFd, master, "/dev/ptmx");
            Sys.Close(master);
            Sys.Close(consoleFd);
            Pty.BecomeSessionOn(slave);
        }

        // As in Exec.cs: nothing of ours reaches the process; signals last (no managed code after).
        Sys.CloseRangeCloExec(3 + cfg.PreserveFds);
        ProcessSecurity.Apply(p, caps, lastCap, seccomp);
        Sys.ResetSignals();
        ProcessSecurity.InstallLateSeccomp(p, seccomp);
        Spawn.Exec(path, p.Args, p.Env ?? []);
        return 127;
    }
}
