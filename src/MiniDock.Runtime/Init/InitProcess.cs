using MiniDock.Native;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Mounts;
using MiniDock.Runtime.Security;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Init;

/// <summary>
/// The container's init: this same binary, re-exec'd as <c>minidock init</c> by <c>create</c>,
/// already inside the new namespaces and cgroups. It builds the rootfs, reports ready, parks on
/// exec.fifo until <c>start</c>, then becomes the user's process with execve. Every step here runs
/// on the main thread, in the order of shared/design-notes.md §3.
/// </summary>
public static class InitProcess
{
    /// <summary>The environment variable that names the init socket's fd.</summary>
    public const string FdEnv = "_MINIDOCK_INITFD";

    private static long MainEntered;
    private static long ConfigParsed;

    public static int Main()
    {
        MainEntered = System.Diagnostics.Stopwatch.GetTimestamp();
        var fd = int.TryParse(Environment.GetEnvironmentVariable(FdEnv), out var n) ? n : 3;
        var channel = new InitChannel(fd);
        InitMessage? cfg = null;
        try
        {
            cfg = channel.Receive() ?? throw new RuntimeError("init: no configuration from the runtime");
            ConfigParsed = System.Diagnostics.Stopwatch.GetTimestamp();
            NsExec.JoinDeferredMount();
            if (cfg.Type == "exec")
            {
                // exec into a container with a user namespace: nsexec.c has entered its namespaces.
                return ExecInit.Run(channel, cfg);
            }

            // Parsed while the runtime makes our cgroups; "go" says we are inside them.
            if (channel.Receive() is not { Type: "go" } go)
            {
                throw new RuntimeError("init: the runtime went away before placing us in our cgroups");
            }

            cfg.SeccompProgram = go.SeccompProgram;
            cfg.SeccompFlags = go.SeccompFlags;

            var exec = Setup(channel, cfg);
            return exec();
        }
        catch (Exception e) when (e is RuntimeError or SysException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            try
            {
                channel.Send(new InitMessage { Type = "error", Text = e.Message });
            }
            catch (SysException)
            {
                Console.Error.WriteLine($"minidock init: {e.Message}");
            }

            return 1;
        }
    }

    /// <summary>Everything up to the exec.fifo wait; returns the final step (wait, then exec).</summary>
    private static Func<int> Setup(InitChannel channel, InitMessage cfg)
    {
        var spec = cfg.Spec!;
        var process = spec.Process!;
        var trace = cfg.Trace ? new Trace(line => channel.Send(new InitMessage { Type = "trace", Text = line }), cfg.TraceStart) : Trace.Off;
        trace.Step($"config received; init's Main began at {System.Diagnostics.Stopwatch.GetElapsedTime(cfg.TraceStart, MainEntered).TotalMilliseconds:F3} ms, config parsed at {System.Diagnostics.Stopwatch.GetElapsedTime(cfg.TraceStart, ConfigParsed).TotalMilliseconds:F3} ms");
        var ns = Namespaces.Parse(spec.Linux?.Namespaces);

        // The host binary must not be reachable through /proc/1/exe while we still are it (CVE-2019-5736 class).
        Sys.Prctl(Prctl.SetDumpable, 0);

        // cgroup namespace: only now, after the parent placed us in our cgroups.
        if (ns.CgroupPath is { } cgPath && !ns.UsesNsexec)
        {
            var cgfd = Sys.Open(cgPath, OpenFlags.RdOnly);
            Sys.Setns(cgfd, Clone.NewCgroup, $"cgroup {cgPath}");
            Sys.Close(cgfd);
            trace.Step($"setns cgroup {cgPath}");
        }
        else if (ns.NewCgroup)
        {
            Sys.Unshare(Clone.NewCgroup);
            trace.Step("unshare cgroup namespace");
        }

        SetNames(spec, trace);

        // exec.fifo must be opened before pivot_root hides the state dir; reopened through /proc later.
        // Under a user namespace the runtime sends it (O_PATH) instead: the mapped root cannot walk the state dir.
        var fifoFd = ns.UsesNsexec ? ReceiveFifo(channel) : Sys.Open(cfg.FifoPath!, OpenFlags.Path);

        var rootfs = new RootfsSetup(LinuxSyscalls.Instance, spec, cfg.Rootfs!, cfg.Bundle!, cfg.CgroupPath!, trace);
        rootfs.Prepare();

        var hooks = spec.Hooks;
        if (hooks?.Prestart is { Count: > 0 } || hooks?.CreateRuntime is { Count: > 0 })
        {
            channel.Send(new InitMessage { Type = "hooks" });
            var reply = channel.Receive();
            if (reply?.Type != "continue")
            {
                throw new RuntimeError(reply?.Text ?? "init: runtime went away during the createRuntime hooks");
            }
        }

        rootfs.PivotRoot();
        var state = new OciState { Id = cfg.Id!, Pid = cfg.HostPid, Bundle = cfg.Bundle!, Status = "creating", Annotations = spec.Annotations, OciVersion = spec.OciVersion };
        Hooks.RunAll("createContainer", hooks?.CreateContainer, state, trace);

        if (process.Terminal)
        {
            SetupConsole(process, cfg, trace);
        }

        rootfs.Finish();

        foreach (var (res, soft, hard) in Rlimits.Parse(process.Rlimits))
        {
            Sys.SetRlimit(res, soft, hard);
        }

        Sys.Check(Libc.chdir(process.Cwd), $"chdir to cwd {process.Cwd}");
        var path = LookPath(process.Args![0], process.Env);
        var lastCap = Caps.LastCap();
        var caps = Capabilities.Parse(process.Capabilities, lastCap);
        var seccomp = cfg.SeccompProgram is { } compiled ? CompiledFilter.FromBytes(compiled, cfg.SeccompFlags)
            : spec.Linux?.Seccomp is { } sc ? SeccompFilter.Compile(sc) : null;
        trace.Step($"init ready: will exec {path}");

        channel.Send(new InitMessage { Type = "ready" });
        Sys.Close(channel.Fd);

        return () =>
        {
            // Park until `start` opens the fifo for reading.
            // Kept open (close-on-exec): `start` reads until EOF, which comes with our execve.
            var w = Sys.Open($"/proc/self/fd/{fifoFd}", OpenFlags.WrOnly);
            Sys.WriteAll(w, "0"u8);
            Sys.Close(fifoFd);

            state.Status = "created";
            Hooks.RunAll("startContainer", hooks?.StartContainer, state, Trace.Off);

            // fds first: a profile installed by Apply may refuse close_range. Signals last, as
            // nothing managed may run after .NET's handlers are gone (a GC suspension uses a signal).
            Sys.CloseRangeCloExec(3 + cfg.PreserveFds);
            try
            {
                ProcessSecurity.Apply(process, caps, lastCap, seccomp);
            }
            catch (Exception e) when (e is RuntimeError or SysException)
            {
                // `start` has returned: nobody reads the runtime's socket any more, the process's stderr is the one voice left.
                Console.Error.WriteLine($"minidock init: {e.Message}");
                return 1;
            }

            Sys.ResetSignals();
            ProcessSecurity.InstallLateSeccomp(process, seccomp);
            Spawn.Exec(path, process.Args!, process.Env ?? []);
            return 127;
        };
    }

    private static int ReceiveFifo(InitChannel channel)
        => UnixSocket.ReceiveFd(channel.Fd, out _) is var fd and >= 0 ? fd : throw new RuntimeError("init: the runtime sent no exec.fifo fd");

    private static void SetNames(RuntimeSpec spec, Trace trace)
    {
        if (!string.IsNullOrEmpty(spec.Hostname))
        {
            Sys.SetHostname(spec.Hostname);
            trace.Step($"hostname {spec.Hostname}");
        }

        if (!string.IsNullOrEmpty(spec.Domainname))
        {
            Sys.SetDomainname(spec.Domainname);
            trace.Step($"domainname {spec.Domainname}");
        }
    }

    /// <summary>
    /// Opens a pty in the container's devpts, binds the slave over /dev/console, sends the master
    /// to the caller's console socket (runc's protocol: SCM_RIGHTS), and makes the slave our
    /// controlling terminal and stdio.
    /// </summary>
    private static void SetupConsole(ProcessSpec process, InitMessage cfg, Trace trace)
    {
        var (master, slave) = Pty.Open("/dev/ptmx");
        if (process.ConsoleSize is { } size)
        {
            Pty.SetSize(master, size.Height, size.Width);
        }

        if (File.Exists("/dev/console"))
        {
            Sys.Mount(slave, "/dev/console", null, MountFlags.Bind, null);
        }

        if (cfg.ConsoleSocket)
        {
            var fd = int.Parse(Environment.GetEnvironmentVariable(FdEnv)!) + 1;
            UnixSocket.SendFd(fd, master, "/dev/ptmx");
            Sys.Close(fd);
        }

        Sys.Close(master);
        Pty.BecomeSessionOn(slave);
        trace.Step($"console {slave} sent to the console socket");
    }

    /// <summary>Resolves args[0] in the container as execvp would, so "not found" fails create, not start.</summary>
    public static string LookPath(string file, IReadOnlyList<string>? env)
    {
        if (file.Contains('/'))
        {
            // Docker maps these two texts to exit codes 127 and 126: keep them apart.
            if (!File.Exists(file))
            {
                throw new RuntimeError(Directory.Exists(file)
                    ? $"exec: \"{file}\": is a directory: permission denied"
                    : $"exec: \"{file}\": stat {file}: no such file or directory");
            }

            return IsExecutable(file) ? file : throw new RuntimeError($"exec: \"{file}\": permission denied");
        }

        var pathVar = env?.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..]
                      ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in pathVar.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, file);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        throw new RuntimeError($"exec: \"{file}\": executable file not found in $PATH");
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            return File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
