using System.Runtime.InteropServices;
using MiniDock.Native;

namespace MiniDock.Runtime;

/// <summary>
/// Forwards the signals a foreground <c>run</c> or <c>exec</c> receives to the container's process,
/// as runc does, so Ctrl-C and `kill` reach it (and PID 1 decides what to do with them).
/// </summary>
public sealed class SignalForwarder : IDisposable
{
    private static readonly int[] Forwarded = [1, 2, 3, 10, 12, 15, 28]; // HUP INT QUIT USR1 USR2 TERM WINCH
    private readonly List<PosixSignalRegistration> _regs = [];

    public SignalForwarder(Func<int> target)
    {
        foreach (var sig in Forwarded)
        {
            _regs.Add(PosixSignalRegistration.Create((PosixSignal)sig, ctx =>
            {
                ctx.Cancel = true;
                var pid = target();
                if (pid > 0)
                {
                    Libc.kill(pid, sig);
                }
            }));
        }
    }

    public void Dispose()
    {
        foreach (var r in _regs)
        {
            r.Dispose();
        }
    }
}
