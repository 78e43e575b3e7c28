using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace MiniDock.Containers.Networks.Dns;

/// <summary>
/// One user-defined network's DNS server, as Docker's embedded DNS: the containers on the network find each other
/// by name (A records from a <see cref="NameTable"/> file the engine rewrites as containers come and go), and every
/// other name is forwarded, query bytes unchanged, to the resolvers the host uses, so that a container needs one
/// nameserver line only. It serves UDP and TCP on the same port (RFC 1035 4.2), each query on its own so that a
/// slow upstream delays no other client, and nothing a client sends can stop it: a malformed query gets FORMERR
/// or nothing, and every error is confined to the query that caused it.
/// </summary>
public sealed class DnsServer : IDisposable
{
    /// <summary>RFC 1035 4.2.1 / RFC 1536: retransmissions are the client's job; one try per upstream is enough.</summary>
    private static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(2);

    /// <summary>RFC 7766 6.2.3: a server closes idle connections; a few seconds is what resolvers expect.</summary>
    private static readonly TimeSpan TcpIdleTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Forwarded queries in flight at once (each holds a socket); beyond it, SERVFAIL at once.</summary>
    private const int MaxForwards = 256;

    /// <summary>TCP clients at once; beyond it, a new connection is closed as soon as it is accepted.</summary>
    private const int MaxTcpConnections = 64;

    /// <summary>IP_FREEBIND (linux/in.h, level SOL_IP 0) and IPV6_FREEBIND (linux/in6.h, level SOL_IPV6 41).</summary>
    private const int SolIp = 0, IpFreebind = 15, SolIpv6 = 41, Ipv6Freebind = 78;

    private readonly IPAddress _listen;
    private readonly int _port;
    private readonly NameTableCache _names;
    private readonly SemaphoreSlim _forwardSlots = new(MaxForwards, MaxForwards);
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private IPEndPoint[] _upstream;
    private int _tcpConnections;
    private Socket? _udp;
    private Socket? _tcp;

    /// <summary>
    /// A server for <paramref name="listen"/>:<paramref name="port"/> (0: any free port, the same for UDP and TCP)
    /// answering from <paramref name="namesFile"/> and forwarding the rest to <paramref name="upstream"/>, tried in
    /// order. Nothing is bound until <see cref="Bind"/>.
    /// </summary>
    public DnsServer(IPAddress listen, int port, string namesFile, IReadOnlyList<IPEndPoint> upstream)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        _listen = listen;
        _port = port;
        _names = new NameTableCache(namesFile);
        _upstream = [.. upstream];
    }

    /// <summary>The port both sockets are bound to (the one chosen when 0 was asked); 0 before <see cref="Bind"/>.</summary>
    public int BoundPort { get; private set; }

    /// <summary>
    /// The resolvers of a resolv.conf: every <c>nameserver</c> line's address (IPv4 or IPv6) on port 53, in the
    /// file's order, without duplicates and without <paramref name="listen"/>, since forwarding to itself would
    /// loop. Lines whose address does not parse are skipped, as the libc resolver does.
    /// </summary>
    public static IReadOnlyList<IPEndPoint> UpstreamFromResolvConf(string text, IPAddress? listen = null)
    {
        var list = new List<IPEndPoint>();
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields is not ["nameserver", var value, ..] || !IPAddress.TryParse(value, out var address) || address.Equals(listen))
            {
                continue;
            }

            var ep = new IPEndPoint(address, 53);
            if (!list.Contains(ep))
            {
                list.Add(ep);
            }
        }

        return list;
    }

    /// <summary>
    /// Binds the UDP and the TCP socket. IP_FREEBIND lets them bind the network's gateway address before the bridge
    /// holds it (the server can start first, and survives the bridge going down and up); SO_REUSEADDR lets a new
    /// server take the TCP port while the previous one's connections are in TIME_WAIT. With port 0 the TCP socket
    /// takes the port the kernel gave UDP, trying again with another when TCP has that one in use.
    /// Throws <see cref="SocketException"/> when the address cannot be bound.
    /// </summary>
    public void Bind()
    {
        if (_udp is not null)
        {
            throw new InvalidOperationException("the DNS server is already bound");
        }

        for (var attempt = 0; ; attempt++)
        {
            var udp = NewSocket(SocketType.Dgram, ProtocolType.Udp);
            Socket? tcp = null;
            try
            {
                udp.Bind(new IPEndPoint(_listen, _port));
                var port = ((IPEndPoint)udp.LocalEndPoint!).Port;
                tcp = NewSocket(SocketType.Stream, ProtocolType.Tcp);
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                tcp.Bind(new IPEndPoint(_listen, port));
                tcp.Listen(128);
                _udp = udp;
                _tcp = tcp;
                BoundPort = port;
                _upstream = [.. _upstream.Where(u => !(u.Address.Equals(_listen) && u.Port == port))];
                return;
            }
            catch (SocketException e) when (_port == 0 && attempt < 10 && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                udp.Dispose();
                tcp?.Dispose();
            }
            catch
            {
                udp.Dispose();
                tcp?.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Serves until <paramref name="ct"/> is cancelled (or the server is disposed), then waits for the queries
    /// being answered (they are cancelled too) and returns normally.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (_udp is null || _tcp is null)
        {
            throw new InvalidOperationException("Bind the DNS server before running it");
        }

        await Task.WhenAll(ServeUdpAsync(_udp, ct), ServeTcpAsync(_tcp, ct)).ConfigureAwait(false);
        await Task.WhenAll(_inFlight.Keys).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _udp?.Dispose();
        _tcp?.Dispose();
    }

    private Socket NewSocket(SocketType type, ProtocolType protocol)
    {
        var socket = new Socket(_listen.AddressFamily, type, protocol);
        try
        {
            var (level, name) = _listen.AddressFamily == AddressFamily.InterNetworkV6 ? (SolIpv6, Ipv6Freebind) : (SolIp, IpFreebind);
            socket.SetRawSocketOption(level, name, BitConverter.GetBytes(1));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ServeUdpAsync(Socket udp, CancellationToken ct)
    {
        var buffer = new byte[ushort.MaxValue];
        EndPoint any = _listen.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await udp.ReceiveFromAsync(buffer, SocketFlags.None, any, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (Stopped(e, ct))
            {
                return;
            }
            catch (SocketException)
            {
                // A datagram-level error (e.g. an ICMP error reported for an earlier reply): the socket still works.
                continue;
            }

            var packet = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            Track(AnswerUdpAsync(udp, packet, received.RemoteEndPoint, ct));
        }
    }

    private async Task AnswerUdpAsync(Socket udp, byte[] packet, EndPoint client, CancellationToken ct)
    {
        try
        {
            var reply = await AnswerAsync(packet, overTcp: false, ct).ConfigureAwait(false);
            if (reply is not null)
            {
                await udp.SendToAsync(reply, SocketFlags.None, client, ct).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // One query's failure (the client gone, the server stopping, or a bug) must not reach the loop.
        }
    }

    private async Task ServeTcpAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (Stopped(e, ct))
            {
                return;
            }
            catch (SocketException)
            {
                // E.g. EMFILE: accept fails until something is closed; don't spin meanwhile.
                try
                {
                    await Task.Delay(100, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _tcpConnections) > MaxTcpConnections)
            {
                Interlocked.Decrement(ref _tcpConnections);
                connection.Dispose();
                continue;
            }

            Track(ServeConnectionAsync(connection, ct));
        }
    }

    /// <summary>
    /// One TCP client: messages with a two-byte length prefix (RFC 1035 4.2.2), as many as it sends, answered in
    /// order, until it closes, stays idle too long, or sends something that is not even a DNS header.
    /// </summary>
    private async Task ServeConnectionAsync(Socket connection, CancellationToken ct)
    {
        try
        {
            using (connection)
            {
                var prefix = new byte[2];
                while (true)
                {
                    byte[] packet;
                    using (var idle = CancellationTokenSource.CreateLinkedTokenSource(ct))
                    {
                        idle.CancelAfter(TcpIdleTimeout);
                        if (!await ReceiveExactlyAsync(connection, prefix, idle.Token).ConfigureAwait(false))
                        {
                            return;
                        }

                        packet = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                        if (!await ReceiveExactlyAsync(connection, packet, idle.Token).ConfigureAwait(false))
                        {
                            return;
                        }
                    }

                    var reply = await AnswerAsync(packet, overTcp: true, ct).ConfigureAwait(false);
                    if (reply is null)
                    {
                        return;
                    }

                    var framed = new byte[2 + reply.Length];
                    BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)reply.Length);
                    reply.CopyTo(framed, 2);
                    await connection.SendAsync(framed, SocketFlags.None, ct).ConfigureAwait(false);
                }
            }
        }
        catch (Exception)
        {
            // The client went away, timed out, or the server is stopping: only this connection ends.
        }
        finally
        {
            Interlocked.Decrement(ref _tcpConnections);
        }
    }

    /// <summary>
    /// The response to one query: FORMERR (or nothing) for a malformed one, NOTIMP for another opcode, REFUSED for
    /// another class, the table's addresses for a name on the network (A, AAAA, or both for ANY; other types: no
    /// answer, NOERROR, RFC 2308 2.2), and for any other name the first upstream's reply, or SERVFAIL.
    /// </summary>
    private async ValueTask<byte[]?> AnswerAsync(byte[] packet, bool overTcp, CancellationToken ct)
    {
        var query = DnsMessage.Parse(packet);
        if (query is null)
        {
            return DnsMessage.ErrorWithoutQuestion(packet, DnsRcode.FormatError);
        }

        if (query.Opcode != 0)
        {
            return query.Response(DnsRcode.NotImplemented, authoritative: false);
        }

        if (query.Class is not (DnsMessage.ClassIn or DnsMessage.ClassAny))
        {
            return query.Response(DnsRcode.Refused, authoritative: false);
        }

        var addresses = _names.Current.Lookup(query.Name);
        if (addresses.Count > 0)
        {
            IReadOnlyList<IPAddress> records = query.Type switch
            {
                DnsMessage.TypeA => [.. addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork)],
                DnsMessage.TypeAaaa => [.. addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6)],
                DnsMessage.TypeAny => addresses,
                _ => [],
            };
            return query.Answer(records, DnsMessage.DefaultTtl, overTcp ? ushort.MaxValue : DnsMessage.MaxUdpLength);
        }

        return await ForwardAsync(packet, query.Id, overTcp, ct).ConfigureAwait(false)
            ?? query.Response(DnsRcode.ServerFailure, authoritative: false);
    }

    /// <summary>
    /// The query, unchanged (its ID, its EDNS record), to each upstream in turn over UDP; the first reply is the
    /// client's, unchanged. A client that asked over TCP and would get a truncated reply gets that upstream's
    /// answer over TCP instead, when it gives one. Null when there is no upstream, none answers, or too many
    /// forwards are already waiting.
    /// </summary>
    private async ValueTask<byte[]?> ForwardAsync(byte[] packet, ushort id, bool overTcp, CancellationToken ct)
    {
        if (_upstream.Length == 0 || !_forwardSlots.Wait(0, CancellationToken.None))
        {
            return null;
        }

        try
        {
            foreach (var server in _upstream)
            {
                var reply = await ExchangeUdpAsync(server, packet, id, ct).ConfigureAwait(false);
                if (reply is null)
                {
                    continue;
                }

                if (overTcp && (reply[2] & 0x02) != 0)
                {
                    reply = await ExchangeTcpAsync(server, packet, id, ct).ConfigureAwait(false) ?? reply;
                }

                return reply;
            }

            return null;
        }
        finally
        {
            _forwardSlots.Release();
        }
    }

    /// <summary>
    /// One UDP exchange with <paramref name="server"/>. The socket is connected, so the kernel drops datagrams from
    /// anyone else and reports an ICMP "port unreachable" as an error at once; a reply is taken only when it is a
    /// response with the query's ID (RFC 5452 9.1), anything else is ignored until the timeout.
    /// </summary>
    private static async Task<byte[]?> ExchangeUdpAsync(IPEndPoint server, byte[] packet, ushort id, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(UpstreamTimeout);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(packet, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var buffer = new byte[ushort.MaxValue];
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (IsReplyTo(buffer.AsSpan(0, n), id))
                {
                    return buffer[..n];
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>One TCP exchange with <paramref name="server"/> (RFC 1035 4.2.2 framing), bounded by the same timeout.</summary>
    private static async Task<byte[]?> ExchangeTcpAsync(IPEndPoint server, byte[] packet, ushort id, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(UpstreamTimeout);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(server, timeout.Token).ConfigureAwait(false);
            var framed = new byte[2 + packet.Length];
            BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)packet.Length);
            packet.CopyTo(framed, 2);
            await socket.SendAsync(framed, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var prefix = new byte[2];
            if (!await ReceiveExactlyAsync(socket, prefix, timeout.Token).ConfigureAwait(false))
            {
                return null;
            }

            var reply = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            return await ReceiveExactlyAsync(socket, reply, timeout.Token).ConfigureAwait(false) && IsReplyTo(reply, id) ? reply : null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static bool IsReplyTo(ReadOnlySpan<byte> reply, ushort id)
        => reply.Length >= DnsMessage.HeaderLength && BinaryPrimitives.ReadUInt16BigEndian(reply) == id && (reply[2] & 0x80) != 0;

    /// <summary>Fills <paramref name="buffer"/>; false when the peer closes first.</summary>
    private static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            buffer = buffer[n..];
        }

        return true;
    }

    /// <summary>Whether a receive or accept failed because the server is stopping (cancelled, or its socket closed).</summary>
    private static bool Stopped(Exception e, CancellationToken ct)
        => ct.IsCancellationRequested
            || e is ObjectDisposedException
            || e is SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Shutdown };

    /// <summary>Keeps a query's task until it ends, so that <see cref="RunAsync"/> can wait for the last ones.</summary>
    private void Track(Task task)
    {
        if (task.IsCompleted)
        {
            return;
        }

        _inFlight.TryAdd(task, 0);
        task.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _), _inFlight, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
