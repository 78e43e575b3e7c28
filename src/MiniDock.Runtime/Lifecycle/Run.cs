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
        var terminal = Create.LoadSpec(Path.GetFullPath(o.Bundle)).Process is { Terminal: true };
        if (detach && terminal && o.ConsoleSocket is null)
        {
            throw new RuntimeError("a detached run with process.terminal needs --console-socket");
        }

        var proxyPair = !detach && terminal && o.ConsoleSocket is null ? ConsoleProxy.Pair() : (Ours: -1, Child: -1);
        ContainerRecord r;
        try
        {
            r = Create.Run(store, proxyPair.Child >= 0 ? new CreateOptions { Id = o.Id, Bundle = o.Bundle, PidFile = o.PidFile, PreserveFds = o.PreserveFds, ConsoleFd = proxyPair.Child } : o, trace);
        }
        finally
        {
            Sys.Close(proxyPair.Child);
        }

        if (detach)
        {
            Start.Run(store, r, trace);
            return 0;
        }

        using var proxy = proxyPair.Ours >= 0 ? ConsoleProxy.Receive(proxyPair.Ours) : null;
        int status;
        using (new SignalForwarder(() => r.Pid))
        {
            try
            {
                Start.Run(store, r, trace);
            }
            catch
            {
                Delete.Run(store, o.Id, force: true, Trace.Off);
                throw;
            }

            Sys.WaitPid(r.Pid, out status);
        }

        trace.Step($"container exited: {Sys.ExitCode(status)}");
        using (store.Lock(r.Id))
        {
            Delete.Run(store, r, force: true, trace);
        }

        return Sys.ExitCode(status);
    }
}
