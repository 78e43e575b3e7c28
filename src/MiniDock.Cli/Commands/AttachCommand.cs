using System.Buffers.Binary;
using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Config;
using MiniDock.Containers.Monitor;
using MiniDock.Containers.Store;
using MiniDock.Native;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>attach CONTAINER</c>: this terminal joins a detached container through its monitor's attach socket (output
/// from now on, stdin, and window size with -t); returns the container's exit code when it ends.
/// </summary>
internal static class AttachCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("container");
        var noStdin = new Option<bool>("--no-stdin") { Description = "do not attach stdin" };
        var cmd = new Command("attach", "Attach local standard input, output, and error streams to a running container") { name, noStdin };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var row = svc.Require(p.GetValue(name)!);
            ContainerStates.RequireRunning(row, svc.Refresh(row), "attach");
            return Connect(svc, row.Id, null).Run(!p.GetValue(noStdin));
        }));
        return cmd;
    }

    /// <summary>Connects to the container's attach socket; <paramref name="startMonitor"/> (start -a) runs once the socket can be waited for.</summary>
    public static Client Connect(ContainerService svc, string id, Action? startMonitor)
    {
        var path = svc.Paths.AttachSocket(id);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (startMonitor is not null)
        {
            // The monitor waits for us before it starts the container, so no output is lost.
            Exception? error = null;
            var t = new Thread(() =>
            {
                try
                {
                    startMonitor();
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            t.Start();
            var deadline = Environment.TickCount64 + 10_000;
            while (true)
            {
                try
                {
                    socket.Connect(new UnixDomainSocketEndPoint(path));
                    break;
                }
                catch (SocketException) when (Environment.TickCount64 < deadline && t.IsAlive)
                {
                    Thread.Sleep(10);
                }
            }

            t.Join();
            if (error is not null)
            {
                socket.Dispose();
                throw error;
            }
        }
        else
        {
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
            }
            catch (SocketException)
            {
                socket.Dispose();
                throw new ContainerException($"container {id[..12]} has no monitor to attach to (it was started in the foreground)");
            }
        }

        var o = RunOptionsJson.Read(svc.Require(id).Options);
        return new Client(new NetworkStream(socket, ownsSocket: true), o.Tty);
    }

    internal sealed class Client(NetworkStream stream, bool tty)
    {
        public int Run(bool withStdin)
        {
            byte[]? saved = null;
            PosixSignalRegistration? winch = null;
            if (tty && Pty.TryGetSize(0, out var rows, out var cols))
            {
                saved = Pty.MakeRaw(0);
                stream.Write(AttachProtocol.ResizeFrame(rows, cols));
                winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
                {
                    if (Pty.TryGetSize(0, out var r, out var c))
                    {
                        stream.Write(AttachProtocol.ResizeFrame(r, c));
                    }
                });
            }

            if (withStdin)
            {
                new Thread(() =>
                {
                    var buf = new byte[16 * 1024];
                    try
                    {
                        while (true)
                        {
                            var n = Sys.Read(0, buf);
                            if (n <= 0)
                            {
                                stream.Write(AttachProtocol.Input(AttachProtocol.InClose, []));
                                return;
                            }

                            stream.Write(AttachProtocol.Input(AttachProtocol.InData, buf.AsSpan(0, n)));
                        }
                    }
                    catch (Exception e) when (e is IOException or SysException or ObjectDisposedException)
                    {
                        // detached or the container ended
                    }
                }) { IsBackground = true }.Start();
            }

            var code = 0;
            try
            {
                var header = new byte[8];
                while (AttachProtocol.ReadExactly(stream, header))
                {
                    var len = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
                    var payload = new byte[len];
                    if (!AttachProtocol.ReadExactly(stream, payload))
                    {
                        break;
                    }

                    if (header[0] == AttachProtocol.ExitFrame && len == 4)
                    {
                        code = BinaryPrimitives.ReadInt32BigEndian(payload);
                        break;
                    }

                    Sys.WriteAll(header[0] == AttachProtocol.Stderr ? 2 : 1, payload);
                }
            }
            finally
            {
                winch?.Dispose();
                Pty.Restore(0, saved);
                stream.Dispose();
            }

            return code;
        }
    }
}
