using System.Net;
using System.Text;
using MiniDock.Containers.Networks.Dns;

namespace MiniDock.Containers.Tests.Networks.Dns;

/// <summary>
/// RFC 1035 wire bytes written and read independently of the code under test: queries are built label by label
/// here, responses decoded field by field, so that a mistake shared by both sides cannot hide.
/// </summary>
internal static class Wire
{
    public const ushort A = 1, Aaaa = 28, Mx = 15, Any = 255, In = 1, Chaos = 3;

    /// <summary>A query with one question; <paramref name="flags"/> 0x0100 is RD set, opcode QUERY.</summary>
    public static byte[] Query(ushort id, string name, ushort type, ushort qclass = In, ushort flags = 0x0100)
    {
        var bytes = new List<byte> { (byte)(id >> 8), (byte)id, (byte)(flags >> 8), (byte)flags, 0, 1, 0, 0, 0, 0, 0, 0 };
        bytes.AddRange(Name(name));
        bytes.AddRange([(byte)(type >> 8), (byte)type, (byte)(qclass >> 8), (byte)qclass]);
        return [.. bytes];
    }

    public static byte[] Name(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public static Reply Read(byte[] m)
    {
        var flags = (ushort)((m[2] << 8) | m[3]);
        var qd = (m[4] << 8) | m[5];
        var an = (m[6] << 8) | m[7];
        var pos = 12;
        var qname = "";
        ushort qtype = 0, qclass = 0;
        if (qd == 1)
        {
            qname = ReadPlainName(m, ref pos);
            qtype = (ushort)((m[pos] << 8) | m[pos + 1]);
            qclass = (ushort)((m[pos + 2] << 8) | m[pos + 3]);
            pos += 4;
        }

        var answers = new List<Record>();
        for (var i = 0; i < an; i++)
        {
            int owner;
            if ((m[pos] & 0xC0) == 0xC0)
            {
                owner = ((m[pos] & 0x3F) << 8) | m[pos + 1];
                pos += 2;
            }
            else
            {
                owner = pos;
                ReadPlainName(m, ref pos);
            }

            var type = (ushort)((m[pos] << 8) | m[pos + 1]);
            var cls = (ushort)((m[pos + 2] << 8) | m[pos + 3]);
            var ttl = (uint)((m[pos + 4] << 24) | (m[pos + 5] << 16) | (m[pos + 6] << 8) | m[pos + 7]);
            var len = (m[pos + 8] << 8) | m[pos + 9];
            answers.Add(new Record(owner, type, cls, ttl, m[(pos + 10)..(pos + 10 + len)]));
            pos += 10 + len;
        }

        return new Reply((ushort)((m[0] << 8) | m[1]), flags, qd, qname, qtype, qclass, answers, pos);
    }

    private static string ReadPlainName(byte[] m, ref int pos)
    {
        var labels = new List<string>();
        while (m[pos] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(m, pos + 1, m[pos]));
            pos += 1 + m[pos];
        }

        pos++;
        return string.Join('.', labels);
    }

    public sealed record Record(int OwnerOffset, ushort Type, ushort Class, uint Ttl, byte[] Data)
    {
        public IPAddress Address => new(Data);
    }

    public sealed record Reply(ushort Id, ushort Flags, int Questions, string QName, ushort QType, ushort QClass, List<Record> Answers, int Length)
    {
        public bool Qr => (Flags & 0x8000) != 0;

        public int Opcode => (Flags >> 11) & 0xF;

        public bool Aa => (Flags & 0x0400) != 0;

        public bool Tc => (Flags & 0x0200) != 0;

        public bool Rd => (Flags & 0x0100) != 0;

        public bool Ra => (Flags & 0x0080) != 0;

        public int Rcode => Flags & 0xF;
    }
}

/// <summary>The RFC 1035 messages the embedded DNS server reads and writes.</summary>
public sealed class DnsMessageTests
{
    [Fact]
    public void A_query_is_read_with_its_id_name_type_class_and_rd()
    {
        var q = DnsMessage.Parse(Wire.Query(0xBEEF, "Web.Example.", Wire.Aaaa))!;
        Assert.Equal(0xBEEF, q.Id);
        Assert.Equal("Web.Example", q.Name);
        Assert.Equal(DnsMessage.TypeAaaa, q.Type);
        Assert.Equal(DnsMessage.ClassIn, q.Class);
        Assert.True(q.RecursionDesired);
        Assert.Equal(0, q.Opcode);
        Assert.False(DnsMessage.Parse(Wire.Query(1, "web", Wire.A, flags: 0))!.RecursionDesired);
    }

    [Fact]
    public void The_root_name_reads_as_empty()
        => Assert.Equal("", DnsMessage.Parse(Wire.Query(7, ".", Wire.A))!.Name);

    [Fact]
    public void Trailing_sections_such_as_an_edns_record_are_ignored()
    {
        // ARCOUNT 1 and an OPT pseudo-record (RFC 6891 6.1.2): root name, type 41, size 1232, no options.
        var packet = Wire.Query(9, "web", Wire.A).Concat(new byte[] { 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0 }).ToArray();
        packet[11] = 1;
        var q = DnsMessage.Parse(packet)!;
        Assert.Equal("web", q.Name);

        // The echoed question stops at QCLASS: the OPT record is not copied into the response.
        var response = q.Response(DnsRcode.NameError, authoritative: true);
        Assert.Equal(12 + 5 + 4, response.Length);
        Assert.Equal(("web", 0), (Wire.Read(response).QName, Wire.Read(response).Answers.Count));
    }

    [Fact]
    public void A_label_holding_a_dot_or_unprintable_bytes_is_escaped_and_cannot_pass_for_two_labels()
    {
        byte[] packet = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, (byte)'a', (byte)'.', (byte)'b', (byte)'\\', 0x07, 0, 0, 1, 0, 1];
        Assert.Equal(@"a\.b\\\007", DnsMessage.Parse(packet)!.Name);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "shorter than a header", [0, 1, 1, 0, 0, 1] },
        { "a response, QR set", Patch(Wire.Query(1, "web", Wire.A), 2, 0x81) },
        { "no question", Patch(Wire.Query(1, "web", Wire.A), 5, 0) },
        { "two questions", Patch(Wire.Query(1, "web", Wire.A), 5, 2) },
        { "label past the end", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, (byte)'w', (byte)'e', (byte)'b'] },
        { "no terminating zero", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b'] },
        { "no qtype and qclass", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'e', (byte)'b', 0, 0, 1] },
        { "pointer to itself", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1] },
        { "pointer into the header", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 2, 0, 1, 0, 1] },
        { "reserved label type 01", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, (byte)'w', 0, 0, 1, 0, 1] },
        { "reserved label type 10", [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x81, (byte)'w', 0, 0, 1, 0, 1] },
        { "name over 255 bytes", Wire.Query(1, string.Join('.', Enumerable.Repeat(new string('a', 63), 4)), Wire.A) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_query_is_refused_without_throwing(string why, byte[] packet)
        => Assert.True(DnsMessage.Parse(packet) is null, why);

    [Fact]
    public void A_name_of_exactly_255_bytes_is_accepted()
    {
        // 3 labels of 63 and one of 61: 3*64 + 62 + 1 = 255 bytes on the wire.
        var name = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);
        Assert.Equal(name, DnsMessage.Parse(Wire.Query(1, name, Wire.A))!.Name);
    }

    [Fact]
    public void Pointers_must_point_strictly_backwards_so_that_no_loop_can_hang_the_reader()
    {
        // offset 0: "web" 0; offset 5: "a" + pointer to 0; offset 9: pointer to 11; offset 11: pointer to 9 (a loop).
        byte[] m = [3, (byte)'w', (byte)'e', (byte)'b', 0, 1, (byte)'a', 0xC0, 0, 0xC0, 11, 0xC0, 9];
        var offset = 5;
        Assert.True(DnsMessage.TryReadName(m, ref offset, out var name, out var compressed));
        Assert.Equal("a.web", name);
        Assert.True(compressed);
        Assert.Equal(9, offset);

        offset = 9;
        Assert.False(DnsMessage.TryReadName(m, ref offset, out _, out _));
        offset = 11;
        Assert.False(DnsMessage.TryReadName(m, ref offset, out _, out _));
    }

    [Fact]
    public void Random_bytes_never_make_the_parser_throw()
    {
        var random = new Random(1035);
        var good = Wire.Query(0x1234, "some.name.example", Wire.A);
        for (var i = 0; i < 20000; i++)
        {
            byte[] packet;
            if (i % 2 == 0)
            {
                packet = new byte[random.Next(0, 64)];
                random.NextBytes(packet);
                if (packet.Length > 5)
                {
                    packet[2] &= 0x7F;
                    packet[4] = 0;
                    packet[5] = 1;
                }
            }
            else
            {
                packet = (byte[])good.Clone();
                packet[random.Next(12, packet.Length)] = (byte)random.Next(256);
                packet = packet[..random.Next(12, packet.Length + 1)];
            }

            var q = DnsMessage.Parse(packet);
            if (q is not null)
            {
                Wire.Read(q.Answer([IPAddress.Parse("10.0.0.1")]));
            }

            DnsMessage.ErrorWithoutQuestion(packet, DnsRcode.FormatError);
        }
    }

    [Fact]
    public void An_answer_copies_id_and_rd_sets_qr_aa_ra_echoes_the_question_and_points_at_its_name()
    {
        var q = DnsMessage.Parse(Wire.Query(0x0102, "WeB", Wire.A))!;
        var bytes = q.Answer([IPAddress.Parse("10.78.0.2"), IPAddress.Parse("10.78.0.3")]);
        var r = Wire.Read(bytes);
        Assert.Equal(0x0102, r.Id);
        Assert.True(r.Qr && r.Aa && r.Ra && r.Rd);
        Assert.False(r.Tc);
        Assert.Equal(0, r.Opcode);
        Assert.Equal(0, r.Rcode);
        Assert.Equal(("WeB", Wire.A, Wire.In), (r.QName, r.QType, r.QClass));
        Assert.Equal(bytes.Length, r.Length);
        Assert.Equal(2, r.Answers.Count);
        Assert.All(r.Answers, a => Assert.Equal((12, Wire.A, Wire.In, DnsMessage.DefaultTtl, 4), (a.OwnerOffset, a.Type, a.Class, a.Ttl, a.Data.Length)));
        Assert.Equal(["10.78.0.2", "10.78.0.3"], r.Answers.Select(a => a.Address.ToString()));
    }

    [Fact]
    public void An_ipv6_address_is_an_aaaa_record_and_the_ttl_is_the_one_given()
    {
        var q = DnsMessage.Parse(Wire.Query(5, "web", Wire.Aaaa))!;
        var a = Assert.Single(Wire.Read(q.Answer([IPAddress.Parse("fd00::2")], ttl: 0)).Answers);
        Assert.Equal((Wire.Aaaa, 0u, "fd00::2"), (a.Type, a.Ttl, a.Address.ToString()));
    }

    [Fact]
    public void No_address_is_a_nodata_answer_noerror_and_authoritative()
    {
        var r = Wire.Read(DnsMessage.Parse(Wire.Query(5, "web", Wire.Aaaa))!.Answer([]));
        Assert.Equal((0, true, 1, 0), (r.Rcode, r.Aa, r.Questions, r.Answers.Count));
    }

    [Fact]
    public void Records_that_do_not_fit_are_left_out_and_tc_is_set()
    {
        var q = DnsMessage.Parse(Wire.Query(5, "many", Wire.A))!;
        var addresses = Enumerable.Range(1, 40).Select(i => IPAddress.Parse($"10.0.0.{i}")).ToList();
        var udp = q.Answer(addresses, maxLength: DnsMessage.MaxUdpLength);
        var r = Wire.Read(udp);
        Assert.True(r.Tc);
        Assert.True(udp.Length <= 512);
        Assert.Equal((512 - 12 - 10) / 16, r.Answers.Count);
        Assert.Equal(addresses.Take(r.Answers.Count), r.Answers.Select(a => a.Address));

        var tcp = Wire.Read(q.Answer(addresses));
        Assert.False(tcp.Tc);
        Assert.Equal(40, tcp.Answers.Count);
    }

    [Theory]
    [InlineData(DnsRcode.NameError, true)]
    [InlineData(DnsRcode.ServerFailure, false)]
    [InlineData(DnsRcode.Refused, false)]
    [InlineData(DnsRcode.FormatError, false)]
    public void A_response_code_alone_echoes_the_question(DnsRcode rcode, bool authoritative)
    {
        var r = Wire.Read(DnsMessage.Parse(Wire.Query(0xFFFE, "nope.example", Wire.A, flags: 0))!.Response(rcode, authoritative));
        Assert.Equal(0xFFFE, r.Id);
        Assert.Equal(((int)rcode, authoritative, true, false, true), (r.Rcode, r.Aa, r.Qr, r.Rd, r.Ra));
        Assert.Equal(("nope.example", 1, 0), (r.QName, r.Questions, r.Answers.Count));
    }

    [Fact]
    public void A_header_only_error_copies_id_opcode_and_rd_and_is_never_sent_for_a_response_or_a_fragment()
    {
        byte[] header = [0xAB, 0xCD, 0x29, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
        var r = Wire.Read(DnsMessage.ErrorWithoutQuestion(header, DnsRcode.FormatError)!);
        Assert.Equal((0xABCD, 5, true, true, 1, 0), (r.Id, r.Opcode, r.Qr, r.Rd, r.Rcode, r.Questions));

        Assert.Null(DnsMessage.ErrorWithoutQuestion(header[..11], DnsRcode.FormatError));
        Assert.Null(DnsMessage.ErrorWithoutQuestion(Patch(header, 2, 0x80), DnsRcode.FormatError));
    }

    private static byte[] Patch(byte[] packet, int at, byte value)
    {
        var copy = (byte[])packet.Clone();
        copy[at] = value;
        return copy;
    }
}

