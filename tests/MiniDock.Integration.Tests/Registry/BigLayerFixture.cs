using System.Net;
using System.Net.Sockets;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// A <see cref="RegistryFixture"/> that also holds <c>big:latest</c>: one gzip layer (built by umoci, once per test
/// process) holding <see cref="BigFileBytes"/> bytes of /dev/urandom, so the layer is about that size. In front of the
/// registry sits a <see cref="ThrottledProxy"/>: pulling through <see cref="ProxyReference"/> takes seconds, long enough
/// to catch a download in the middle.
/// </summary>
public sealed class BigLayerFixture : IDisposable
{
    public const int BigFileBytes = 40 * 1024 * 1024;

    /// <summary>Per connection, registry → client.</summary>
    public const long ThrottleBytesPerSecond = 8L * 1024 * 1024;

    public const string BigRepoTag = "big:latest";

    private static readonly Lazy<string> SharedLayout = new(BuildLayout, LazyThreadSafetyMode.ExecutionAndPublication);

    public BigLayerFixture()
    {
        Registry = new RegistryFixture();
        try
        {
            Registry.SkopeoOk("copy", "-q", "--dest-tls-verify=false", $"oci:{SharedLayout.Value}:big", Registry.DockerRef(BigRepoTag));
            Big = PushedManifest.Read(Registry, "big", "latest");
            Proxy = new ThrottledProxy(Registry.Port, ThrottleBytesPerSecond);
        }
        catch
        {
            Registry.Dispose();
            throw;
        }
    }

    public RegistryFixture Registry { get; }

    public PushedManifest Big { get; }

    public ThrottledProxy Proxy { get; }

    /// <summary>The big layer (the only one).</summary>
    public Descriptor BigLayer => Big.Layers.Single();

    /// <summary>"127.0.0.1:PROXYPORT/REPO:TAG": the same registry, slowly.</summary>
    public string ProxyReference(string repoTag) => $"127.0.0.1:{Proxy.Port}/{repoTag}";

    public void Dispose()
    {
        Proxy?.Dispose();
        Registry.Dispose();
    }

    private static string BuildLayout()
    {
        var root = Directory.CreateTempSubdirectory("minidock-big-layout-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };

        var layout = Path.Combine(root, "layout");
        Umoci(root, "init", "--layout", layout);
        Umoci(root, "new", "--image", $"{layout}:big");
        var bundle = Path.Combine(root, "bundle");
        Umoci(root, "unpack", "--image", $"{layout}:big", bundle);
        var data = new byte[BigFileBytes];
        Random.Shared.NextBytes(data); // incompressible: gzip keeps it about this size
        File.WriteAllBytes(Path.Combine(bundle, "rootfs", "random.bin"), data);
        Umoci(root, "repack", "--image", $"{layout}:big", bundle);
        Umoci(root, "config", "--image", $"{layout}:big", "--config.cmd", "/bin/true");
        Umoci(root, "gc", "--layout", layout);
        Directory.Delete(bundle, recursive: true);
        return layout;
    }

    internal static void Umoci(string ioDir, params string[] args)
    {
        var r = ProcessRunner.Run("umoci", args, TimeSpan.FromSeconds(120), ioDir: ioDir);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("umoci failed: " + r.Describe());
        }
    }
}

/// <summary>
/// A TCP proxy on 127.0.0.1 to a local port that forwards client → server at full speed and server → client at most
/// <c>bytesPerSecond</c> per connection. Counts the bytes it passed server → client (<see cref="BytesToClients"/>).
/// </summary>
public sealed class ThrottledProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly long _bytesPerSecond;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private long _bytesToClients;

    public ThrottledProxy(int targetPort, long bytesPerSecond)
    {
        _targetPort = targetPort;
        _bytesPerSecond = bytesPerSecond;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoop();
    }

    public int Port { get; }

    public long BytesToClients => Interlocked.Read(ref _bytesToClients);

    public void ResetCount() => Interlocked.Exchange(ref _bytesToClients, 0);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var s in _sockets)
            {
                s.Dispose();
            }
        }
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }

            _ = Serve(client);
        }
    }

    private async Task Serve(Socket client)
    {
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }

        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            var up = Pump(client, server, throttle: false);
            var down = Pump(server, client, throttle: true);
            await Task.WhenAll(up, down);
        }
        catch (Exception)
        {
            // A killed client or a stopped proxy: just close both ends.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
            lock (_sockets)
            {
                _sockets.Remove(client);
                _sockets.Remove(server);
            }
        }
    }

    private async Task Pump(Socket from, Socket to, bool throttle)
    {
        var buffer = new byte[16 * 1024];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long sent = 0;
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                if (throttle)
                {
                    Interlocked.Add(ref _bytesToClients, n);
                    sent += n;
                    var due = TimeSpan.FromSeconds((double)sent / _bytesPerSecond);
                    if (due > clock.Elapsed)
                    {
                        await Task.Delay(due - clock.Elapsed, _stop.Token);
                    }
                }
            }
        }
        catch (Exception)
        {
            // Connection closed (or proxy stopped).
        }
    }
}

/// <summary>The pull-kill and concurrent-pull tests share one big-layer registry and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class BigLayerCollection : ICollectionFixture<BigLayerFixture>
{
    public const string Name = "big-layer-registry";
}
