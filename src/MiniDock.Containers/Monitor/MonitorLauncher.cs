using System.Globalization;
using System.Text;
using MiniDock.Containers.Config;
using MiniDock.Native;

namespace MiniDock.Containers.Monitor;

/// <summary>
/// Starts a detached container's monitor: this same binary re-executed as <c>minidock container-monitor ID</c>, in a
/// session of its own with /dev/null for stdio (so it outlives the CLI and its terminal), and waits for its one-line
/// report on fd 3: "ok", or "err CODE message" which becomes this command's error and exit code.
/// </summary>
public static class MonitorLauncher
{
    public const string Command = "container-monitor";

    /// <param name="id">The container.</param>
    /// <param name="waitForAttach">start -a: the monitor waits for the attach client before it starts the container.</param>
    /// <param name="restarting">The restart policy hands a foreground run's container over: this start counts as a restart.</param>
    public static void Start(string id, bool waitForAttach = false, bool restarting = false)
    {
        var (r, w) = Sys.Pipe();
        int pid;
        try
        {
            pid = Spawn.Start(new SpawnRequest
            {
                // This very binary even if bin/minidock was replaced meanwhile (a rebuild): never its path's new file.
                Path = "/proc/self/exe",
                Args = ["minidock", Command, id, .. waitForAttach ? new[] { "--wait-attach" } : [], .. restarting ? new[] { "--restarting" } : []],
                Env = [.. Environment.GetEnvironmentVariables().Keys.Cast<string>()
                    .Where(k => k.StartsWith("MINIDOCK_", StringComparison.Ordinal) || k is "PATH")
                    .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"), "DOTNET_EnableDiagnostics=0"],
                Opens = [(0, "/dev/null"), (1, "/dev/null"), (2, "/dev/null")],
                Fds = [(3, w)],
                CloseFrom = 4,
                NewSession = true,
            });
        }
        finally
        {
            Sys.Close(w);
        }

        var line = new StringBuilder();
        var buf = new byte[512];
        try
        {
            while (true)
            {
                var n = Sys.Read(r, buf);
                if (n <= 0)
                {
                    break;
                }

                line.Append(Encoding.UTF8.GetString(buf, 0, n));
            }
        }
        finally
        {
            Sys.Close(r);
        }

        var text = line.ToString().Trim();
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
