using System.Runtime.InteropServices;
using MiniDock.Containers.Config;
using MiniDock.Containers.Logs;
using MiniDock.Containers.Store;
using MiniDock.Native;
using MiniDock.Runtime;

namespace MiniDock.Containers.Monitor;

/// <summary>
/// The owner of a running container (conmon's job in podman, the shim's in containerd): it starts the process with
/// stdio it holds, copies the output into the json log (and to whoever is attached), waits for the process, records
/// its exit, and applies the restart policy. A foreground <c>run</c> is its own monitor, attached to the terminal;
/// a detached container gets a monitor process of its own (<see cref="MonitorLauncher"/>) that outlives the CLI.
/// </summary>
public sealed class ContainerMonitor(ContainerService svc, string id)
{
    /// <summary>
    /// Foreground: the CLI's stdin/stdout/stderr are the container's (through the monitor, so the log gets a copy);
    /// signals the CLI receives are passed on (Docker's --sig-proxy); with -t the terminal is raw and resizes follow.
    /// Returns the container's exit code.
    /// </summary>
    public int RunForeground()
    {
        var row = svc.Require(id);
        var o = RunOptionsJson.Read(row.Options);
        var launched = svc.Launch(row);
        using var log = new JsonLogWriter(svc.Paths.Log(id));
        var pumps = new List<Thread>();
        byte[]? savedTty = null;
        PosixSignalRegistration? winch = null;
        if (launched.PtyMaster >= 0)
        {
            var master = launched.PtyMaster;
            if (Pty.TryGetSize(0, out var rows, out var cols))
            {
                Pty.SetSize(master, rows, cols);
            }

            savedTty = Pty.MakeRaw(0);
            winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
            {
                if (Pty.TryGetSize(0, out var r, out var c))
                {
                    Pty.SetSize(master, r, c);
                }
            });
            if (o.Interactive)
            {
                Background("stdin→pty", () => CopyRaw(0, master, closeTo: false));
            }

            pumps.Add(Background("pty→stdout", () => Pump(master, "stdout", log, [1])));
        }
        else
        {
            if (launched.StdinWrite >= 0)
            {
                Background("stdin→container", () => CopyRaw(0, launched.StdinWrite, closeTo: true));
            }

            pumps.Add(Background("stdout", () => Pump(launched.StdoutRead, "stdout", log, [1])));
            pumps.Add(Background("stderr", () => Pump(launched.StderrRead, "stderr", log, [2])));
        }

        int status;
        using (new SignalForwarder(() => launched.Pid))
        {
            Sys.WaitPid(launched.Pid, out status);
        }

        foreach (var t in pumps)
        {
            t.Join(2000);
        }

        winch?.Dispose();
        if (savedTty is not null)
        {
            Pty.Restore(0, savedTty);
        }

        var code = Sys.ExitCode(status);
        log.Flush("stdout");
        log.Flush("stderr");
        Close(launched, skipStdin: launched.StdinWrite >= 0);
        svc.Finish(row, code);
        if (o.AutoRemove)
        {
            svc.Remove(svc.Db.Get(id) ?? row, force: true, volumes: true);
        }
        else if (svc.Db.Get(id) is { } now && ShouldRestart(RestartPolicy.Parse(o.Restart).Name, RestartPolicy.Parse(o.Restart).MaxRetries, now, code))
        {
            // As Docker: the foreground run returns the first exit code, and the restart policy goes on in the
            // background, here by a detached monitor that takes the container over.
            try
            {
                MonitorLauncher.Start(id, restarting: true);
            }
            catch (ContainerException e)
            {
                Console.Error.WriteLine($"restart policy: {e.Message}");
            }
        }

        return code;
    }

    /// <summary>
    /// Detached: runs in its own session with no terminal. Writes "ok" (or "err CODE message") to
    /// <paramref name="statusFd"/> once the first start succeeded (or failed), serves attach clients, and restarts
    /// the container as its policy says until it ends for good.
    /// </summary>
    public int RunDetached(int statusFd, bool waitForAttach, bool restarting = false)
    {
        var row = svc.Require(id);
        var o = RunOptionsJson.Read(row.Options);
        var policy = RestartPolicy.Parse(o.Restart);
        using var attach = new AttachServer(svc.Paths.AttachSocket(id), o.Tty);
        if (waitForAttach)
        {
            attach.WaitForClient(TimeSpan.FromSeconds(10));
        }

        using var log = new JsonLogWriter(svc.Paths.Log(id));
        var restart = restarting;
        var delay = 100;
        while (true)
        {
            Launched launched;
            try
            {
                launched = svc.Launch(svc.Require(id), restart);
            }
            catch (Exception e) when (e is ContainerException or RuntimeError or IOException)
            {
                var code = ContainerService.ExitCodeOf(e);
                if (statusFd >= 0)
                {
                    Report(ref statusFd, $"err {code} {e.Message.Split('\n')[0]}");
                    return code;
                }

                // A restart that cannot start: the container ends here, with the reason recorded.
                svc.Finish(svc.Require(id), code, e.Message);
                return code;
            }

            Report(ref statusFd, "ok");
            var input = launched.PtyMaster >= 0 ? launched.PtyMaster : launched.StdinWrite;
            attach.Input = input;
            attach.Resize = launched.PtyMaster >= 0 ? (r, c) => Pty.SetSize(launched.PtyMaster, r, c) : null;
            var pumps = new List<Thread>();
            if (launched.PtyMaster >= 0)
            {
                pumps.Add(Background("pty", () => Pump(launched.PtyMaster, "stdout", log, [], attach)));
            }
            else
            {
                pumps.Add(Background("stdout", () => Pump(launched.StdoutRead, "stdout", log, [], attach)));
                pumps.Add(Background("stderr", () => Pump(launched.StderrRead, "stderr", log, [], attach)));
            }

            var started = Environment.TickCount64;
            Sys.WaitPid(launched.Pid, out var status);
            foreach (var t in pumps)
            {
                t.Join(2000);
            }

            log.Flush("stdout");
            log.Flush("stderr");
            attach.Input = -1;
            Close(launched);
            var exit = Sys.ExitCode(status);
            row = svc.Require(id);
            svc.Finish(row, exit);
            row = svc.Db.Get(id);
            if (row is null)
            {
                attach.Exit(exit);
                return exit;
            }

            if (!ShouldRestart(policy.Name, policy.MaxRetries, row, exit))
            {
                attach.Exit(exit);
                if (o.AutoRemove)
                {
                    svc.Remove(row, force: true, volumes: true);
                }

                return exit;
            }

            // Docker's back-off: doubling from 100 ms, reset after a run of 10 s or more.
            delay = Environment.TickCount64 - started >= 10_000 ? 100 : Math.Min(delay * 2, 60_000);
            svc.Db.Update(id, r =>
            {
                r.State = "restarting";
                return true;
            });
            Thread.Sleep(delay);
            if (svc.Db.Get(id) is not { StoppedByUser: false })
            {
                svc.Db.Update(id, r =>
                {
                    r.State = "exited";
                    return true;
                });
                return exit;
            }

            restart = true;
        }
    }

    private static bool ShouldRestart(string policy, int maxRetries, ContainerRow row, int exit)
    {
        if (row.StoppedByUser)
        {
            return false;
        }

        return policy switch
        {
            "always" or "unless-stopped" => true,
            "on-failure" => exit != 0 && (maxRetries <= 0 || row.RestartCount < maxRetries),
            _ => false,
        };
    }

    private static void Report(ref int fd, string line)
    {
        if (fd < 0)
        {
            return;
        }

        try
        {
            Sys.WriteAll(fd, System.Text.Encoding.UTF8.GetBytes(line + "\n"));
        }
        catch (SysException)
        {
            // The CLI that asked is gone; the container runs on.
        }

        Sys.Close(fd);
        fd = -1;
    }

    /// <summary>Closes what the monitor held; a stdin whose copier closes it at EOF is that thread's to close.</summary>
    private static void Close(Launched l, bool skipStdin = false)
    {
        foreach (var fd in new[] { skipStdin ? -1 : l.StdinWrite, l.StdoutRead, l.StderrRead, l.PtyMaster })
        {
            Sys.Close(fd);
        }
    }

    private static Thread Background(string name, Action body)
    {
        var t = new Thread(() => body()) { IsBackground = true, Name = name };
        t.Start();
        return t;
    }

    /// <summary>Output of the container: into the log, to the given local fds, and to attached clients.</summary>
    private static void Pump(int from, string stream, JsonLogWriter log, int[] to, AttachServer? attach = null)
    {
        var buf = new byte[32 * 1024];
        try
        {
            while (true)
            {
                var n = Sys.Read(from, buf);
                if (n <= 0)
                {
                    return;
                }

                var data = buf.AsSpan(0, n);
                log.Write(stream, data);
                foreach (var fd in to)
                {
                    try
                    {
                        Sys.WriteAll(fd, data);
                    }
                    catch (SysException)
                    {
                        // Our stdout closed (a pipe reader went away): the log still gets everything.
                    }
                }

                attach?.Broadcast(stream == "stderr" ? (byte)2 : (byte)1, data);
            }
        }
        catch (SysException)
        {
            // EIO from a pty master once the container's side closed: the end of its output.
        }
    }

    private static void CopyRaw(int from, int to, bool closeTo)
    {
        ConsoleProxy.CopyFd(from, to);
        if (closeTo)
        {
            Sys.Close(to);
        }
    }
}
