using System.Globalization;
using MiniDock.Containers.Config;
using MiniDock.Native;

namespace MiniDock.Containers.Monitor;

/// <summary>
/// Starts a detached container's monitor: this same binary re-executed as <c>minidock container-monitor ID</c>
/// (<see cref="SelfSpawn"/>), and waits for its one-line report on fd 3: "ok", or "err CODE message" which becomes
/// this command's error and exit code.
/// </summary>
public static class MonitorLauncher
{
    public const string Command = "container-monitor";

    /// <param name="id">The container.</param>
    /// <param name="waitForAttach">start -a: the monitor waits for the attach client before it starts the container.</param>
    /// <param name="restarting">The restart policy hands a foreground run's container over: this start counts as a restart.</param>
    public static void Start(string id, bool waitForAttach = false, bool restarting = false)
    {
        var (pid, text) = SelfSpawn.Start([Command, id, .. waitForAttach ? new[] { "--wait-attach" } : [], .. restarting ? new[] { "--restarting" } : []]);
        if (text == "ok")
        {
            return;
        }

        if (text.StartsWith("err ", StringComparison.Ordinal))
        {
            var parts = text.Split(' ', 3);
            Sys.WaitPid(pid, out _);
            throw new ContainerException(parts.Length > 2 ? parts[2] : "start failed", int.Parse(parts[1], CultureInfo.InvariantCulture));
        }

        throw new ContainerException($"container monitor (pid {pid}) exited before reporting");
    }
}
