using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MiniDock.Registry.Tests;

/// <summary>
/// WireMock rewrites Content-Length, so a short body looks complete; this raw HTTP/1.1 server promises a
/// Content-Length, sends half and closes the connection (HttpClient: "response ended prematurely"),
/// then serves the rest to a Range request. With <c>stall</c> it sends half and then nothing at all,
/// keeping the connection open: the client must give up after its stall timeout and resume the same way.
/// </summary>
public sealed class ConnectionResetTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResetOrStallMidBlobResumesWithRange(bool stall)
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        var d = new Descriptor(MediaTypes.OciLayerZstd, Digests.Sha256(bytes), bytes.Length);
        const int Half = 150_000;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var requests = new List<string>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var server = Task.Run(async () =>
        {
            while (requests.Count < 2)
            {
                using var socket = await listener.AcceptSocketAsync(cts.Token);
                var head = await ReadHeadAsync(socket, cts.Token);
                requests.Add(head);
                if (!head.Contains("Range:", StringComparison.OrdinalIgnoreCase))
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {bytes.Length}\r\n\r\n"), cts.Token);
                    await socket.SendAsync(bytes.AsMemory(0, Half), cts.Token);
                    if (!stall)
                    {
                        // Close mid-body: a RST could discard the unsent half, a FIN lands exactly at byte Half.
                        socket.Shutdown(SocketShutdown.Send);
                    }

                    // Stalled: wait, silent, until the client hangs up.
                    await DrainAsync(socket, cts.Token);
                }
                else
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 206 Partial Content\r\nContent-Length: {bytes.Length - Half}\r\nContent-Range: bytes {Half}-{bytes.Length - 1}/{bytes.Length}\r\nConnection: close\r\n\r\n"), cts.Token);
                    await socket.SendAsync(bytes.AsMemory(Half), cts.Token);
                    socket.Shutdown(SocketShutdown.Send);
                    await DrainAsync(socket, cts.Token);
                }
            }
        });

        var path = Path.Combine(Path.GetTempPath(), $"minidock-reset-{Guid.NewGuid():N}.partial");
        try
        {
            var client = new RegistryClient(RegistryClient.CreateHttpClient(TimeSpan.FromSeconds(30)),
                new RegistryOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5), StallTimeout = TimeSpan.FromMilliseconds(500) });
            await client.DownloadBlobAsync(Reference.Parse($"127.0.0.1:{port}/x/y"), d, path, null, cts.Token);
            await server;

            Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
            Assert.Equal(2, requests.Count);
            Assert.DoesNotContain("Range:", requests[0], StringComparison.OrdinalIgnoreCase);
            Assert.Contains($"Range: bytes={Half}-", requests[1], StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            listener.Stop();
            File.Delete(path);
        }
    }

    private static async Task DrainAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, ct) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // The client went away; that is all we waited for.
        }
    }

    private static async Task<string> ReadHeadAsync(Socket socket, CancellationToken ct)
    {
        var sb = new StringBuilder();
        var buffer = new byte[4096];
        while (!sb.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await socket.ReceiveAsync(buffer, ct);
            if (n == 0)
            {
                break;
            }

            sb.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return sb.ToString();
    }
}
