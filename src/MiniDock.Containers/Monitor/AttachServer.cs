using System.Buffers.Binary;
using System.Net.Sockets;
using MiniDock.Native;

namespace MiniDock.Containers.Monitor;

/// <summary>
/// The monitor's attach socket (a unix socket, mode 0600, root only): every connected client gets the container's
/// output from the moment it connects, may write to its stdin, and (with a terminal) resize it. Managed sockets:
/// no P/Invoke needed here.
/// </summary>
public sealed class AttachServer : IDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly List<NetworkStream> _clients = [];
    private readonly Lock _gate = new();
    private readonly ManualResetEventSlim _firstClient = new();

    public AttachServer(string path, bool tty)
    {
        _path = path;
        Tty = tty;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(8);
        new Thread(AcceptLoop) { IsBackground = true, Name = "attach-accept" }.Start();
    }

    public bool Tty { get; }

    /// <summary>Where client stdin goes (the pty master or the stdin pipe); -1: nowhere.</summary>
    public int Input { get; set; } = -1;

    /// <summary>Applies a client's window size (terminal containers only).</summary>
    public Action<ushort, ushort>? Resize { get; set; }

    public void WaitForClient(TimeSpan timeout) => _firstClient.Wait(timeout);

    public void Broadcast(byte stream, ReadOnlySpan<byte> data)
    {
        var frame = AttachProtocol.Frame(stream, data);
        lock (_gate)
        {
            for (var i = _clients.Count - 1; i >= 0; i--)
            {
                try
                {
                    _clients[i].Write(frame);
                }
                catch (IOException)
                {
                    _clients[i].Dispose();
                    _clients.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Tells every client the container exited, with its code, and hangs up.</summary>
    public void Exit(int code)
    {
        Span<byte> p = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(p, code);
        Broadcast(AttachProtocol.ExitFrame, p);
        lock (_gate)
        {
            foreach (var c in _clients)
            {
                c.Dispose();
            }

            _clients.Clear();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket s;
            try
            {
                s = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var stream = new NetworkStream(s, ownsSocket: true);
            lock (_gate)
            {
                _clients.Add(stream);
            }

            _firstClient.Set();
            new Thread(() => ReadClient(stream)) { IsBackground = true, Name = "attach-client" }.Start();
        }
    }

    private void ReadClient(NetworkStream stream)
    {
        var header = new byte[5];
        try
        {
            while (AttachProtocol.ReadExactly(stream, header))
            {
                var len = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                var payload = new byte[len];
                if (!AttachProtocol.ReadExactly(stream, payload))
                {
                    return;
                }

                switch (header[0])
                {
                    case AttachProtocol.InData when Input >= 0:
                        Sys.WriteAll(Input, payload);
                        break;
                    case AttachProtocol.InResize when len == 4:
                        Resize?.Invoke(BinaryPrimitives.ReadUInt16BigEndian(payload), BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(2)));
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SysException or ObjectDisposedException)
        {
            // The client or the container went away.
        }
    }
}
