using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MiniDock.Containers.Networks.Dns;

/// <summary>Response codes (RFC 1035 4.1.1, RCODE) the embedded server sends.</summary>
public enum DnsRcode : byte
{
    NoError = 0,

    /// <summary>FORMERR: the query could not be interpreted.</summary>
    FormatError = 1,

    /// <summary>SERVFAIL: a name we do not own and no upstream resolver answered.</summary>
    ServerFailure = 2,

    /// <summary>NXDOMAIN: the name does not exist (only meaningful from an authoritative server).</summary>
    NameError = 3,

    /// <summary>NOTIMP: an opcode other than standard QUERY.</summary>
    NotImplemented = 4,

    /// <summary>REFUSED: a class other than IN (or ANY).</summary>
    Refused = 5,
}

/// <summary>
/// The small part of the RFC 1035 wire format that a container-name responder needs: one query in (header and its
/// single question), one response out (the question echoed, answers in the A/AAAA form, or just a response code).
/// Everything else in a query (answer, authority and additional sections, e.g. an EDNS OPT record) is ignored,
/// and every length and pointer is checked, because the bytes come from any process on the network:
/// a malformed packet makes <see cref="Parse"/> return null, it never throws.
/// </summary>
public sealed class DnsMessage
{
    /// <summary>RFC 1035 3.2.2 TYPE A: an IPv4 address.</summary>
    public const ushort TypeA = 1;

    /// <summary>RFC 3596 2.1 TYPE AAAA: an IPv6 address.</summary>
    public const ushort TypeAaaa = 28;

    /// <summary>RFC 1035 3.2.3 QTYPE * (ANY): every type the server has.</summary>
    public const ushort TypeAny = 255;

    /// <summary>RFC 1035 3.2.4 CLASS IN, the Internet.</summary>
    public const ushort ClassIn = 1;

    /// <summary>RFC 1035 3.2.5 QCLASS * (ANY).</summary>
    public const ushort ClassAny = 255;

    /// <summary>
    /// TTL of the answers: containers come and go (and a restarted one may get another address), so resolvers in
    /// the containers must not keep an answer long; a few seconds still spares a burst of identical lookups.
    /// </summary>
    public const uint DefaultTtl = 10;

    /// <summary>RFC 1035 4.2.1: a UDP message is at most 512 bytes unless EDNS says otherwise (not supported here).</summary>
    public const int MaxUdpLength = 512;

    /// <summary>RFC 1035 4.1.1: the fixed header is 12 bytes.</summary>
    internal const int HeaderLength = 12;

    /// <summary>RFC 1035 2.3.4: a name is at most 255 bytes on the wire, a label at most 63.</summary>
    private const int MaxNameLength = 255;

    private const int AnswerFixedLength = 2 + 2 + 2 + 4 + 2;

    /// <summary>The question exactly as the client sent it (name, QTYPE, QCLASS), echoed in every response.</summary>
    private readonly byte[] _question;

    private readonly ushort _flags;

    private DnsMessage(ushort id, ushort flags, string name, ushort type, ushort @class, byte[] question)
    {
        Id = id;
        _flags = flags;
        Name = name;
        Type = type;
        Class = @class;
        _question = question;
    }

    /// <summary>The query's ID, copied into the response so that the client can match it (RFC 1035 4.1.1).</summary>
    public ushort Id { get; }

    /// <summary>OPCODE: 0 is a standard query; anything else gets NOTIMP.</summary>
    public int Opcode => (_flags >> 11) & 0xF;

    /// <summary>RD: copied into the response (RFC 1035 4.1.1).</summary>
    public bool RecursionDesired => (_flags & 0x0100) != 0;

    /// <summary>
    /// QNAME in presentation form with no trailing dot ("" for the root), the case as sent: labels joined by '.', a
    /// byte that is a dot, a backslash or not printable ASCII written as <c>\DDD</c> / <c>\.</c> so that such a label
    /// can never be taken for two labels or match a container name.
    /// </summary>
    public string Name { get; }

    public ushort Type { get; }

    public ushort Class { get; }

    /// <summary>
    /// The query in <paramref name="packet"/>, or null when it is not one this server can answer: shorter than a
    /// header, a response (QR set: answering it could start a loop between two servers), not exactly one question
    /// (RFC 1035 4.1.2; every resolver sends one), or a question name that is malformed or compressed.
    /// </summary>
    public static DnsMessage? Parse(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < HeaderLength)
        {
            return null;
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((flags & 0x8000) != 0 || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) != 1)
        {
            return null;
        }

        var offset = HeaderLength;

        // A pointer (RFC 1035 4.1.4) refers to an earlier name, and the question's name is the first one in the
        // message: the only bytes before it are the header, so a pointer there is never well formed.
        if (!TryReadName(packet, ref offset, out var name, out var compressed) || compressed || packet.Length - offset < 4)
        {
            return null;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
        var question = packet[HeaderLength..(offset + 4)].ToArray();
        return new DnsMessage(BinaryPrimitives.ReadUInt16BigEndian(packet), flags, name, type, @class, question);
    }

    /// <summary>
    /// A response with no question section for a packet <see cref="Parse"/> refused (FORMERR as RFC 1035 4.1.1
    /// describes it): only the header can be trusted, so only the ID, opcode and RD are copied. Null when no answer
    /// must be sent: shorter than a header (there is no ID to copy) or itself a response (QR set).
    /// </summary>
    public static byte[]? ErrorWithoutQuestion(ReadOnlySpan<byte> packet, DnsRcode rcode)
    {
        if (packet.Length < HeaderLength)
        {
            return null;
        }

        var flags = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((flags & 0x8000) != 0)
        {
            return null;
        }

        var response = new byte[HeaderLength];
        WriteHeader(response, BinaryPrimitives.ReadUInt16BigEndian(packet), flags, authoritative: false, truncated: false, rcode, questions: 0, answers: 0);
        return response;
    }

    /// <summary>
    /// A response with <paramref name="rcode"/> and no answer: NXDOMAIN, SERVFAIL, REFUSED, NOTIMP, or NOERROR
    /// with nothing (a name we own, of a type we have no record of: RFC 2308 2.2 "NODATA"). AA is set for names
    /// this server owns (<paramref name="authoritative"/>), so that a resolver believes a negative answer.
    /// </summary>
    public byte[] Response(DnsRcode rcode, bool authoritative)
    {
        var response = new byte[HeaderLength + _question.Length];
        WriteHeader(response, Id, _flags, authoritative, truncated: false, rcode, questions: 1, answers: 0);
        _question.CopyTo(response, HeaderLength);
        return response;
    }

    /// <summary>
    /// An authoritative NOERROR response with one record per address: A for IPv4, AAAA for IPv6 (an empty list is
    /// a NODATA answer). Each record's owner is a pointer to the question's name (RFC 1035 4.1.4: offset 12), so
    /// the case the client used is kept. Records that would make the message longer than
    /// <paramref name="maxLength"/> (512 over UDP, RFC 1035 4.2.1) are left out and TC is set, so that the client
    /// asks again over TCP (RFC 1035 4.2.2).
    /// </summary>
    public byte[] Answer(IReadOnlyList<IPAddress> addresses, uint ttl = DefaultTtl, int maxLength = ushort.MaxValue)
    {
        var head = HeaderLength + _question.Length;
        var length = head;
        var count = 0;
        foreach (var a in addresses)
        {
            var next = length + AnswerFixedLength + RdataLength(a);
            if (next > maxLength)
            {
                break;
            }

            length = next;
            count++;
        }

        var response = new byte[length];
        WriteHeader(response, Id, _flags, authoritative: true, truncated: count < addresses.Count, DnsRcode.NoError, questions: 1, answers: (ushort)count);
        _question.CopyTo(response, HeaderLength);
        var span = response.AsSpan(head);
        for (var i = 0; i < count; i++)
        {
            var a = addresses[i];
            var rdata = RdataLength(a);
            BinaryPrimitives.WriteUInt16BigEndian(span, 0xC000 | HeaderLength);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], a.AddressFamily == AddressFamily.InterNetwork ? TypeA : TypeAaaa);
            BinaryPrimitives.WriteUInt16BigEndian(span[4..], ClassIn);
            BinaryPrimitives.WriteUInt32BigEndian(span[6..], ttl);
            BinaryPrimitives.WriteUInt16BigEndian(span[10..], (ushort)rdata);
            a.TryWriteBytes(span[12..], out _);
            span = span[(AnswerFixedLength + rdata)..];
        }

        return response;
    }

    /// <summary>
    /// Reads the name at <paramref name="offset"/> (RFC 1035 3.1 labels, 4.1.4 pointers) and moves the offset past
    /// it. Pointers must go strictly backwards, each one before the previous target, which is what "a prior
    /// occurrence" means and makes every loop (a pointer to itself, two pointing at each other) a failure instead
    /// of a hang. False for a label running past the end, a name over 255 bytes, or the reserved label types
    /// 01 and 10 (RFC 1035 4.1.4, RFC 6891 5).
    /// </summary>
    internal static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name, out bool compressed)
    {
        name = "";
        compressed = false;
        var sb = new StringBuilder();
        var pos = offset;
        var limit = offset;
        var end = -1;
        var wireLength = 1;
        while (true)
        {
            if (pos >= message.Length)
            {
                return false;
            }

            var len = message[pos];
            if (len == 0)
            {
                pos++;
                break;
            }

            switch (len & 0xC0)
            {
                case 0xC0:
                    if (pos + 1 >= message.Length)
                    {
                        return false;
                    }

                    var target = ((len & 0x3F) << 8) | message[pos + 1];
                    if (target >= limit)
                    {
                        return false;
                    }

                    if (end < 0)
                    {
                        end = pos + 2;
                    }

                    compressed = true;
                    pos = limit = target;
                    continue;
                case 0:
                    wireLength += 1 + len;
                    if (wireLength > MaxNameLength || pos + 1 + len > message.Length)
                    {
                        return false;
                    }

                    if (sb.Length > 0)
                    {
                        sb.Append('.');
                    }

                    AppendLabel(sb, message.Slice(pos + 1, len));
                    pos += 1 + len;
                    break;
                default:
                    return false;
            }
        }

        offset = end >= 0 ? end : pos;
        name = sb.ToString();
        return true;
    }

    private static void AppendLabel(StringBuilder sb, ReadOnlySpan<byte> label)
    {
        foreach (var b in label)
        {
            if (b is (byte)'.' or (byte)'\\')
            {
                sb.Append('\\').Append((char)b);
            }
            else if (b is < 0x21 or > 0x7E)
            {
                sb.Append('\\').Append(((int)b).ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append((char)b);
            }
        }
    }

    private static int RdataLength(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork ? 4 : 16;

    /// <summary>
    /// RFC 1035 4.1.1 header of a response to a query with <paramref name="queryFlags"/>: QR set, OPCODE and RD
    /// copied, RA set (the server recurses for names it does not own by forwarding), Z, AD and CD clear.
    /// </summary>
    private static void WriteHeader(Span<byte> buffer, ushort id, ushort queryFlags, bool authoritative, bool truncated, DnsRcode rcode, ushort questions, ushort answers)
    {
        var flags = 0x8000 | (queryFlags & 0x7800) | (queryFlags & 0x0100) | 0x0080 | (int)rcode;
        if (authoritative)
        {
            flags |= 0x0400;
        }

        if (truncated)
        {
            flags |= 0x0200;
        }

        BinaryPrimitives.WriteUInt16BigEndian(buffer, id);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[4..], questions);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[6..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[10..], 0);
    }
}
