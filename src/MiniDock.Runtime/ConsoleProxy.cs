using System.Runtime.InteropServices;
using MiniDock.Native;

namespace MiniDock.Runtime;

/// <summary>
/// A foreground <c>run</c>/<c>exec</c> with a terminal and no --console-socket: the engine receives
/// the pty master itself and copies bytes between it and our stdio (as runc does), with our tty in
/// raw mode and window-size changes passed on.
/// </summary>
public sealed class ConsoleProxy : IDisposable
{
    private readonly int _master;
    private readonly byte[]? _saved;
    private readonly Thread _output;
    private readonly PosixSignalRegistration? _winch;

    private ConsoleProxy(int master)
    {
        _master = master;
        if (Pty.TryGetSize(0, out var rows, out var cols))
        {
            Pty.SetSize(master, rows, cols);
        }

        _saved = Pty.MakeRaw(0);
        _winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
        {
            if (Pty.TryGetSize(0, out var r, out var c))
            {
                Pty.SetSize(_master, r, c);
            }
        });
        new Thread(() => CopyFd(0, _master)) { IsBackground = true, Name = "stdin→pty" }.Start();
        _output = new Thread(() => CopyFd(_master, 1)) { IsBackground = true, Name = "pty→stdout" };
        _output.Start();
    }

    /// <summary>A socket pair: give <c>Child</c> to the process that makes the pty; <see cref="Receive"/> on the other.</summary>
    public static (int Ours, int Child) Pair() => Sys.SocketPair();

    /// <summary>Receives the pty master on <paramref name="ours"/> and starts copying.</summary>
    public static ConsoleProxy Receive(int ours)
    {
        var master = UnixSocket.ReceiveFd(ours, out _);
        Sys.Close(ours);
        return master < 0 ? throw new RuntimeError("no pty master received from the container") : new ConsoleProxy(master);
    }

    public void Dispose()
    {
        // Let the last output drain (the slave side closes when the process exits), then restore the tty.
        _output.Join(2000);
        _winch?.Dispose();
        Pty.Restore(0, _saved);
        Sys.Close(_master);
    }

    /// <summary>Copies bytes until EOF or an error on either side (EIO from a pty master is the usual end).</summary>
    public static void CopyFd(int from, int to)
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

                Sys.WriteAll(to, buf.AsSpan(0, n));
            }
        }
        catch (SysException)
        {
            // EIO from the master once the slave is gone: the end of the session.
        }
    }
}
