using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Networks.Dns;

namespace MiniDock.Cli.Commands;

/// <summary>
/// The hidden <c>network-dns NETWORK-ID</c> entry: a user-defined network's embedded DNS (see
/// <see cref="Containers.Networks.DnsLauncher"/>). fd 3 gets "ok" once the sockets are bound, or the error; it serves
/// until SIGTERM or until its names file is gone (the network's last container left).
/// </summary>
internal static class NetworkDnsCommand
{
    public static int Run(string networkId)
    {
        try
        {
            using var services = Services.Build();
            var svc = services.GetRequiredService<ContainerService>();
            var n = svc.Net.Require(networkId);
            var names = svc.Net.NamesFile(n);
            var resolv = File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : "";
            using var server = new DnsServer(IPAddress.Parse(n.Gateway), 53, names, DnsServer.UpstreamFromResolvConf(resolv, IPAddress.Parse(n.Gateway)));
            server.Bind();
            Report("ok");
            using var cts = new CancellationTokenSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                cts.Cancel();
            });
            var watch = Task.Run(async () =>
            {
                while (!cts.IsCancellationRequested && File.Exists(names))
                {
                    await Task.Delay(500, cts.Token).ConfigureAwait(false);
                }

                await cts.CancelAsync().ConfigureAwait(false);
            });
            try
            {
                server.RunAsync(cts.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        }
        catch (Exception e)
        {
            Report(e.Message.Split('\n')[0]);
            return 125;
        }
    }

    /// <summary>One line on fd 3 (closed after, so the launcher reads to its end); a no-op once it is closed.</summary>
    private static void Report(string line)
    {
        try
        {
            Native.Sys.WriteAll(3, System.Text.Encoding.UTF8.GetBytes(line + "\n"));
            Native.Sys.Close(3);
        }
        catch (Native.SysException)
        {
        }
    }
}
