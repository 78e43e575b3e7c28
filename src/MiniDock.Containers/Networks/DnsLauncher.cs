using System.Globalization;
using MiniDock.Containers.Config;
using MiniDock.Containers.Store;
using MiniDock.Native;
using MiniDock.Runtime;

namespace MiniDock.Containers.Networks;

/// <summary>
/// The embedded DNS of a user-defined network (<see cref="Dns.DnsServer"/>) runs as this binary re-executed as
/// <c>minidock network-dns NETWORK-ID</c>, in a session of its own, from the first container on the network to the
/// last: it answers on the gateway address, port 53, which the containers' resolv.conf names. Its pid and start
/// time are kept beside the names file; it reports "ok" on fd 3 once its sockets are bound, so a container never
/// starts before its names resolve.
/// </summary>
public static class DnsLauncher
{
    public const string Command = "network-dns";

    public static string PidFile(string namesFile) => Path.Combine(Path.GetDirectoryName(namesFile)!, "dns.pid");

    /// <summary>Starts the network's DNS server unless it runs already (called under the namespace lock).</summary>
    public static void Ensure(NetworkRow n, string namesFile)
    {
        if (Running(namesFile) is not null)
        {
            return;
        }

        var (pid, text) = SelfSpawn.Start(Command, n.Id);
        if (text != "ok")
        {
            Sys.WaitPid(pid, out _);
            throw new ContainerException($"network {n.Name}: embedded DNS on {n.Gateway}:53: {(text.Length > 0 ? text : "exited before reporting")}");
        }

        File.WriteAllText(PidFile(namesFile), $"{pid} {Processes.StartTime(pid) ?? 0}\n");
    }

    /// <summary>Stops the network's DNS server (its names file is gone: it would stop by itself, later).</summary>
    public static void Stop(NetworkRow n, string namesFile)
    {
        if (Running(namesFile) is { } pid)
        {
            var start = Processes.StartTime(pid) ?? 0;
            Libc.kill(pid, 15);
            Processes.WaitGone(pid, start, 5000);
        }

        File.Delete(PidFile(namesFile));
    }

    /// <summary>The server's pid when the one recorded is still that process.</summary>
    private static int? Running(string namesFile)
    {
        var path = PidFile(namesFile);
        if (!File.Exists(path))
        {
            return null;
        }

        var f = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return f.Length == 2 && int.TryParse(f[0], CultureInfo.InvariantCulture, out var pid) && ulong.TryParse(f[1], CultureInfo.InvariantCulture, out var start)
            && Processes.IsAlive(pid, start) ? pid : null;
    }
}
