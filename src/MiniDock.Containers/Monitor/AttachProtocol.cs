using System.Buffers.Binary;

namespace MiniDock.Containers.Monitor;

/// <summary>
/// The attach socket's framing. Monitor → client: Docker's multiplexed stream header (stream byte 1 stdout,
/// 2 stderr, then three zero bytes and a big-endian length; https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Container/operation/ContainerAttach),
/// plus stream 9 "exit" carrying the exit code. Client → monitor: a type byte (0 stdin data, 1 stdin closed,
/// 2 resize: rows, cols as big-endian u16) and a big-endian length.
/// </summary>
public static class AttachProtocol
{
    public const byte Stdout = 1;
    public const byte Stderr = 2;
    public const byte ExitFrame = 9;

    public const byte InData = 0;
    public const byte InClose = 1;
    public const byte InResize = 2;

    public static byte[] Frame(byte stream, ReadOnlySpan<byte> payload)
    {
        var b = new byte[8 + payload.Length];
        b[0] = stream;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(b.AsSpan(8));
        return b;
    }

    public static byte[] Input(byte type, ReadOnlySpan<byte> payload)
    {
        var b = new byte[5 + payload.Length];
        b[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(b.AsSpan(5));
        return b;
    }

    public static byte[] ResizeFrame(ushort rows, ushort cols)
    {
        Span<byte> p = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(p, rows);
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], cols);
        return Input(InResize, p);
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes; false at a clean end of stream.</summary>
    public static bool ReadExactly(Stream s, Span<byte> buffer)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = s.Read(buffer[got..]);
            if (n == 0)
            {
                return false;
            }

            got += n;
        }

        return true;
    }
}
