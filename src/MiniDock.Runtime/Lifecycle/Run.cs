using MiniDock.Native;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// runc's run: create + start, then (in the foreground) forward signals, wait for the init — our
/// own child — and delete the container, returning its exit code (128+N when killed by signal N).
/// </summary>
public static class RunContainer
{
    public static int Run(StateStore store, CreateOptions o, bool detach, Trace trace)
    {
        if (!detach && Create.LoadSpec(Path.GetFullPath(o.Bundle)).Process is { Terminal: true } && o.ConsoleSocket is null)
        {
            throw new RuntimeError("a foreground run with process.terminal needs --console-socket (or use terminal: false)");
        }

        var r = Create.Run(store, o, trace);
        if (detach)
        {
            Start.Run(store, o.Id, trace);
            return 0;
        }

        int status;
        using (new SignalForwarder(() => r.Pid))
        {
            try
            {
                Start.Run(store, o.Id, trace);
            }
            catch
            {
                Delete.Run(store, o.Id, force: true, Trace.Off);
                throw;
            }

            Sys.WaitPid(r.Pid, out status);
        }

        trace.Step($"container exited: {Sys.ExitCode(status)}");
        Delete.Run(store, o.Id, force: true, trace);
        return Sys.ExitCode(status);
    }
}
