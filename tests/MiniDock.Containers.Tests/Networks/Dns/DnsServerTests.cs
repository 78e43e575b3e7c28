using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MiniDock.Containers.Networks.Dns;

namespace MiniDock.Containers.Tests.Networks.Dns;

/// <summary>
/// The server over real sockets on 127.0.0.1 (port 0: the kernel picks one, so tests never collide), queried the way
/// a container's resolver queries it, with queries built by <see cref="Wire"/> rather than by the code under test.
/// Timeouts only bound a hung test; nothing here measures speed.
/// </summary>
public sealed class DnsServerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly IPAddress Loopback = IPAddress.Loopback;

    private readonly string _dir = Directory.CreateTempSubdirectory("dns-").FullName;
    private readonly List<(DnsServer Server, CancellationTokenSource Stop, Task Run)> _servers = [];
    private readonly List<Socket> _sockets = [];

    private string NamesFile => Path.Combine(_dir, "names");

    public void Dispose()
    {
        foreach (var (server, stop, run) in _servers)
        {
            stop.Cancel();
            Assert.True(run.Wait(Bound), "RunAsync ends once cancelled");
            server.Dispose();
            stop.Dispose();
        }

        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_known_name_is_answered_over_udp_ignoring_case_and_a_trailing_dot()
    {
        var port = Start("10.78.0.2 web 3f2a9c1b7d4e\n10.78.0.3 db\n");
        ushort id = 0x1000;
        foreach (var name in new[] { "web", "WEB", "Web.", "3F2A9C1B7D4E." })
        {
            var r = Wire.Read(await UdpAsync(port, Wire.Query(++id, name, Wire.A)));
            Assert.Equal(id, r.Id);
            Assert.True(r.Qr && r.Aa && r.Ra && r.Rd);
            Assert.Equal(0, r.Rcode);
            Assert.Equal(name.TrimEnd('.'), r.QName);
            var a = Assert.Single(r.Answers);
            Assert.Equal((Wire.A, "10.78.0.2"), (a.Type, a.Address.ToString()));
        }
    }

    [Fact]
    public async Task Several_queries_on_one_tcp_connection_are_each_answered()
    {
        var port = Start("10.78.0.2 web\n10.78.0.3 db\n");
        var replies = await TcpAsync(port, Wire.Query(1, "web", Wire.A), Wire.Query(2, "DB", Wire.A), Wire.Query(3, "web.", Wire.Any));
        Assert.Equal(["10.78.0.2", "10.78.0.3", "10.78.0.2"], replies.Select(b => Assert.Single(Wire.Read(b).Answers).Address.ToString()));
        Assert.Equal([1, 2, 3], replies.Select(b => (int)Wire.Read(b).Id));
    }

    [Fact]
    public async Task Aaaa_or_another_type_of_a_known_name_is_noerror_with_no_answer()
    {
        var port = Start("10.78.0.2 web\n");
        foreach (var type in new[] { Wire.Aaaa, Wire.Mx })
        {
            var r = Wire.Read(await UdpAsync(port, Wire.Query(4, "web", type)));
            Assert.Equal((0, true, 0, type), (r.Rcode, r.Aa, r.Answers.Count, r.QType));
        }
    }

    [Fact]
    public async Task An_unknown_name_with_no_upstream_is_servfail_over_udp_and_tcp()
    {
        var port = Start("10.78.0.2 web\n");
        var udp = Wire.Read(await UdpAsync(port, Wire.Query(5, "example.com", Wire.A)));
        var tcp = Wire.Read(Assert.Single(await TcpAsync(port, Wire.Query(6, "example.com", Wire.A))));
        Assert.Equal((5, 2, false, 0), (udp.Id, udp.Rcode, udp.Aa, udp.Answers.Count));
        Assert.Equal((6, 2, "example.com"), (tcp.Id, tcp.Rcode, tcp.QName));
    }

    [Fact]
    public async Task An_unknown_name_is_forwarded_unchanged_and_the_upstreams_reply_comes_back_unchanged()
    {
        var (upstream, seen, sent) = FakeUpstream();
        var port = Start("10.78.0.2 web\n", upstream);

        var query = Wire.Query(0x4242, "example.com", Wire.A);
        var reply = await UdpAsync(port, query);
        Assert.Equal(query, await seen.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(await sent.Reader.ReadAsync().AsTask().WaitAsync(Bound), reply);
        var r = Wire.Read(reply);
        Assert.Equal((0x4242, "192.0.2.99", 1234u), (r.Id, Assert.Single(r.Answers).Address.ToString(), r.Answers[0].Ttl));

        // Over TCP too (the server forwards over UDP and frames the reply).
        var tcpQuery = Wire.Query(0x4343, "Example.COM", Wire.A);
        var tcpReply = Assert.Single(await TcpAsync(port, tcpQuery));
        Assert.Equal(tcpQuery, await seen.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(await sent.Reader.ReadAsync().AsTask().WaitAsync(Bound), tcpReply);
        Assert.Equal(0x4343, Wire.Read(tcpReply).Id);
    }

    [Fact]
    public async Task An_upstream_that_refuses_is_skipped_for_the_next()
    {
        // A port nobody listens on: the kernel answers with ICMP port unreachable.
        var dead = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        dead.Bind(new IPEndPoint(Loopback, 0));
        var deadEndPoint = (IPEndPoint)dead.LocalEndPoint!;
        dead.Dispose();

        var (upstream, _, sent) = FakeUpstream();
        var port = Start("", deadEndPoint, upstream);
        var reply = await UdpAsync(port, Wire.Query(0x0707, "example.org", Wire.A));
        Assert.Equal(await sent.Reader.ReadAsync().AsTask().WaitAsync(Bound), reply);
    }

    [Fact]
    public async Task A_silent_upstream_ends_in_servfail_and_does_not_hold_up_other_clients()
    {
        var silent = Track(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        silent.Bind(new IPEndPoint(Loopback, 0));
        var port = Start("10.78.0.2 web\n", (IPEndPoint)silent.LocalEndPoint!);

        var slow = UdpAsync(port, Wire.Query(8, "example.net", Wire.A));
        var known = Wire.Read(await UdpAsync(port, Wire.Query(9, "web", Wire.A)));
        Assert.Equal("10.78.0.2", Assert.Single(known.Answers).Address.ToString());
        var r = Wire.Read(await slow);
        Assert.Equal((8, 2), (r.Id, r.Rcode));
    }

    [Fact]
    public async Task A_names_file_renamed_over_the_old_one_is_used_without_a_restart()
    {
        var port = Start("10.78.0.2 web\n");
        Assert.Equal("10.78.0.2", Assert.Single(Wire.Read(await UdpAsync(port, Wire.Query(1, "web", Wire.A))).Answers).Address.ToString());

        NameTableTests.Replace(NamesFile, "10.78.0.9 web\n10.78.0.10 api\n");
        Assert.Equal("10.78.0.9", Assert.Single(Wire.Read(await UdpAsync(port, Wire.Query(2, "web", Wire.A))).Answers).Address.ToString());
        Assert.Equal("10.78.0.10", Assert.Single(Wire.Read(await UdpAsync(port, Wire.Query(3, "api", Wire.A))).Answers).Address.ToString());

        File.Delete(NamesFile);
        Assert.Equal(2, Wire.Read(await UdpAsync(port, Wire.Query(4, "web", Wire.A))).Rcode);
    }

    [Fact]
    public async Task Malformed_packets_do_not_stop_the_server()
    {
        var port = Start("10.78.0.2 web\n");
        using var client = Track(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var server = new IPEndPoint(Loopback, port);

        // Too short to answer: silence. Then a header with no question and a question that points at itself: FORMERR.
        await client.SendToAsync(new byte[] { 1, 2, 3 }, server);
        await client.SendToAsync(new byte[] { 0x55, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, server);
        var formerr = Wire.Read(await ReceiveAsync(client));
        Assert.Equal((0x5501, 1, 0), (formerr.Id, formerr.Rcode, formerr.Questions));
        await client.SendToAsync(new byte[] { 0x55, 0x02, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 }, server);
        var loop = Wire.Read(await ReceiveAsync(client));
        Assert.Equal((0x5502, 1, 0), (loop.Id, loop.Rcode, loop.Questions));

        // A response sent to the server (QR set) is never answered, so two servers cannot bounce one back and forth.
        var response = Wire.Query(0x5503, "web", Wire.A, flags: 0x8180);
        await client.SendToAsync(response, server);
        await client.SendToAsync(Wire.Query(0x5504, "web", Wire.A), server);
        var good = Wire.Read(await ReceiveAsync(client));
        Assert.Equal((0x5504, 0, "10.78.0.2"), (good.Id, good.Rcode, Assert.Single(good.Answers).Address.ToString()));
    }

    [Fact]
    public async Task After_malformed_packets_good_queries_are_still_answered_over_udp_and_tcp()
    {
        var port = Start("10.78.0.2 web\n");
        using var client = Track(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        var server = new IPEndPoint(Loopback, port);
        await client.SendToAsync(new byte[] { 1 }, server);
        await client.SendToAsync(new byte[] { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41 }, server);
        await client.SendToAsync(Wire.Query(0x0101, "web", Wire.A), server);

        // The FORMERR for the second packet comes first; then the answer.
        var replies = new List<Wire.Reply> { Wire.Read(await ReceiveAsync(client)), Wire.Read(await ReceiveAsync(client)) };
        Assert.Contains(replies, r => r.Id == 0x0001 && r.Rcode == 1);
        Assert.Contains(replies, r => r.Id == 0x0101 && r.Rcode == 0 && r.Answers.Single().Address.ToString() == "10.78.0.2");

        // A TCP connection sending a bad message then a good one gets both answers, in order.
        var tcp = await TcpAsync(port, [0x33, 0x33, 0x01, 0, 0, 2, 0, 0, 0, 0, 0, 0], Wire.Query(0x3434, "web", Wire.A));
        Assert.Equal((0x3333, 1), (Wire.Read(tcp[0]).Id, Wire.Read(tcp[0]).Rcode));
        Assert.Equal((0x3434, 0), (Wire.Read(tcp[1]).Id, Wire.Read(tcp[1]).Rcode));

        // A TCP client that hangs up mid-message harms nobody.
        using (var broken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await broken.ConnectAsync(server);
            await broken.SendAsync(new byte[] { 0, 40, 1, 2, 3 });
        }

        Assert.Equal(0, Wire.Read(await UdpAsync(port, Wire.Query(0x0202, "web", Wire.A))).Rcode);
    }

    [Fact]
    public async Task Another_opcode_is_notimp_and_another_class_is_refused()
    {
        var port = Start("10.78.0.2 web\n");
        var notimp = Wire.Read(await UdpAsync(port, Wire.Query(1, "web", Wire.A, flags: 0x1100)));
        Assert.Equal((4, 2, 0), (notimp.Rcode, notimp.Opcode, notimp.Answers.Count));
        var refused = Wire.Read(await UdpAsync(port, Wire.Query(2, "web", Wire.A, qclass: Wire.Chaos)));
        Assert.Equal((5, 0), (refused.Rcode, refused.Answers.Count));
    }

    [Fact]
    public async Task Too_many_addresses_for_udp_set_tc_and_tcp_has_them_all()
    {
        var port = Start(string.Concat(Enumerable.Range(1, 40).Select(i => $"10.78.1.{i} many\n")));
        var udp = await UdpAsync(port, Wire.Query(1, "many", Wire.A));
        Assert.True(udp.Length <= 512);
        Assert.True(Wire.Read(udp).Tc);
        var tcp = Wire.Read(Assert.Single(await TcpAsync(port, Wire.Query(2, "many", Wire.A))));
        Assert.False(tcp.Tc);
        Assert.Equal(40, tcp.Answers.Count);
    }

    [Fact]
    public void Resolv_conf_nameservers_become_upstreams_on_port_53_without_the_listen_address()
    {
        var text = "# generated\nsearch corp.example\nnameserver 192.0.2.1\nnameserver 2001:db8::53 # v6\n\tnameserver\t10.78.0.1\nnameserver not-an-ip\n"
            + "nameserver 192.0.2.1\n;nameserver 192.0.2.2\noptions edns0\nnameserver\n";
        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("192.0.2.1"), 53), new IPEndPoint(IPAddress.Parse("2001:db8::53"), 53)],
            DnsServer.UpstreamFromResolvConf(text, IPAddress.Parse("10.78.0.1")));
        Assert.Equal(3, DnsServer.UpstreamFromResolvConf(text).Count);
    }

    [Fact]
    public async Task Bind_twice_and_run_before_bind_are_errors()
    {
        using var server = new DnsServer(Loopback, 0, NamesFile, []);
        Assert.Equal(0, server.BoundPort);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.RunAsync(CancellationToken.None));
        server.Bind();
        Assert.NotEqual(0, server.BoundPort);
        Assert.Throws<InvalidOperationException>(server.Bind);
    }

    /// <summary>A server on 127.0.0.1, any port, with <paramref name="names"/> as its names file; its port.</summary>
    private int Start(string names, params IPEndPoint[] upstream)
    {
        File.WriteAllText(NamesFile, names);
        var server = new DnsServer(Loopback, 0, NamesFile, upstream);
        server.Bind();
        var stop = new CancellationTokenSource();
        _servers.Add((server, stop, server.RunAsync(stop.Token)));
        return server.BoundPort;
    }

    /// <summary>
    /// A resolver on 127.0.0.1 that answers any query with a reply of its own making (its ID, QR, one A record
    /// 192.0.2.99, TTL 1234, so the client can tell it from a local answer); every query and reply is reported.
    /// </summary>
    private (IPEndPoint, System.Threading.Channels.Channel<byte[]> Seen, System.Threading.Channels.Channel<byte[]> Sent) FakeUpstream()
    {
        var socket = Track(new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        socket.Bind(new IPEndPoint(Loopback, 0));
        var seen = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        var sent = System.Threading.Channels.Channel.CreateUnbounded<byte[]>();
        _ = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            try
            {
                while (true)
                {
                    var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                    var query = buffer[..r.ReceivedBytes];
                    seen.Writer.TryWrite(query);
                    var reply = query.Concat(new byte[] { 0xC0, 12, 0, 1, 0, 1, 0, 0, 0x04, 0xD2, 0, 4, 192, 0, 2, 99 }).ToArray();
                    reply[2] = 0x81;
                    reply[3] = 0x80;
                    BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), 1);
                    sent.Writer.TryWrite(reply);
                    await socket.SendToAsync(reply, SocketFlags.None, r.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // The test is over.
            }
        });
        return ((IPEndPoint)socket.LocalEndPoint!, seen, sent);
    }

    private T Track<T>(T socket) where T : Socket
    {
        _sockets.Add(socket);
        return socket;
    }

    private static async Task<byte[]> UdpAsync(int port, byte[] query)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await client.SendToAsync(query, new IPEndPoint(Loopback, port));
        return await ReceiveAsync(client);
    }

    private static async Task<byte[]> ReceiveAsync(Socket client)
    {
        using var timeout = new CancellationTokenSource(Bound);
        var buffer = new byte[65536];
        var n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return buffer[..n];
    }

    /// <summary>The queries on one connection, each with its two-byte length (RFC 1035 4.2.2), and their replies.</summary>
    private static async Task<List<byte[]>> TcpAsync(int port, params byte[][] queries)
    {
        using var timeout = new CancellationTokenSource(Bound);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(Loopback, port), timeout.Token);
        var replies = new List<byte[]>();
        foreach (var q in queries)
        {
            await client.SendAsync(new byte[] { (byte)(q.Length >> 8), (byte)q.Length }.Concat(q).ToArray(), SocketFlags.None, timeout.Token);
            var prefix = await ReadExactlyAsync(client, 2, timeout.Token);
            replies.Add(await ReadExactlyAsync(client, (prefix[0] << 8) | prefix[1], timeout.Token));
        }

        return replies;
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket s, int length, CancellationToken ct)
    {
        var buffer = new byte[length];
        var got = 0;
        while (got < length)
        {
            var n = await s.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, ct);
            Assert.NotEqual(0, n);
            got += n;
        }

        return buffer;
    }
}
