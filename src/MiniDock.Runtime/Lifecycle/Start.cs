using MiniDock.Native;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// runtime.md#start: release the parked init by opening exec.fifo for reading. The open is
/// non-blocking and the wait polls the init's pidfd too, so an init that died meanwhile is an
/// error instead of a hang.
/// </summary>
public static class Start
{
    public static void Run(StateStore store, string id, Trace trace)
    {
        using var held = store.Lock(id);
        Run(store, store.Load(id), trace);
    }

    /// <summary>Starts a container whose record the caller already holds (and whose lock, if any).</summary>
    public static void Run(StateStore store, ContainerRecord r, Trace trace)
    {
        var id = r.Id;
        ContainerStateMachine.Require(id, store.Status(r), LifecycleOp.Start);
        var fifo = store.FifoPath(id);
        var fd = Sys.Open(fifo, OpenFlags.RdOnly | OpenFlags.NonBlock);
        var pidfd = Sys.PidfdOpen(r.Pid);
        try
        {
            // The init writes one byte, then holds the fifo open (close-on-exec) until its execve:
            // EOF after the byte means the user's process runs, so poststart runs after it, as the spec says.
            var gotByte = false;
            while (true)
            {
                var n = Sys.TryReadByte(fd);
                if (n == 1)
                {
                    gotByte = true;
                    continue;
                }

                if (n == 0 && gotByte)
                {
                    break;
                }

                if (!Processes.IsAlive(r.Pid, r.InitStartTime))
                {
                    if (gotByte)
                    {
                        break;
                    }

                    throw new RuntimeError($"cannot start container {id}: its init process exited");
                }

                Sys.PollIn([fd, pidfd], 100);
            }
        }
        finally
        {
            Sys.Close(fd);
            Sys.Close(pidfd);
        }

        // No state write: with the fifo gone and the init alive, the status reads as running.
        File.Delete(fifo);
        trace.Step($"exec.fifo opened: container {id} started");
        Hooks.RunAllWarn("poststart", r.Spec.Hooks?.Poststart, r.ToOci(ContainerStatus.Running), trace);
    }
}
