using System.Buffers.Binary;
using System.Text.Json;
using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Init;

/// <summary>Length-prefixed JSON frames over a stream socket fd. Blocking, allocation-light, thread-free.</summary>
public sealed class InitChannel(int fd)
{
    public int Fd { get; } = fd;

    public void Send(InitMessage msg)
    {
        var body = StateJson.Write(msg);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, body.Length);
        Sys.WriteAll(Fd, len);
        Sys.WriteAll(Fd, body);
    }

    /// <summary>The next frame, or null at EOF (the other side exited).</summary>
    public InitMessage? Receive()
    {
        Span<byte> len = stackalloc byte[4];
        if (!ReadExactly(len))
        {
            return null;
        }

        var size = BinaryPrimitives.ReadInt32LittleEndian(len);
        if (size is < 0 or > 16 << 20)
        {
            throw new RuntimeError($"init channel: bad frame length {size} (is fd {Fd} really the runtime's socket?)");
        }

        var body = new byte[size];
        return ReadExactly(body) ? StateJson.ReadInitMessage(body) : null;
    }

    private bool ReadExactly(Span<byte> buf)
    {
        var off = 0;
        while (off < buf.Length)
        {
            var n = Sys.Read(Fd, buf[off..]);
            if (n == 0)
            {
                return false;
            }

            off += n;
        }

        return true;
    }
}
