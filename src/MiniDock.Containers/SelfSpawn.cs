using System.Text;
using MiniDock.Native;

namespace MiniDock.Containers;

/// <summary>
/// The helper processes MiniDock leaves behind a command (a container's monitor, a network's DNS server): this very
/// binary re-executed (/proc/self/exe, so a rebuild of bin/minidock meanwhile does not matter) in a session of its
/// own with /dev/null for stdio, so it outlives the CLI and its terminal, passing on only the MINIDOCK_* variables and
/// PATH. It reports on fd 3 ("ok", or why not) and closes it; the caller reads that report to its end.
/// </summary>
public static class SelfSpawn
{
    /// <summary>Starts <c>minidock ARGS…</c> and returns its pid with its one-line report ("" when it said nothing).</summary>
    public static (int Pid, string Report) Start(params string[] args)
    {
        var (r, w) = Sys.Pipe();
        int pid;
        try
        {
            pid = Spawn.Start(new SpawnRequest
            {
                Path = "/proc/self/exe",
                Args = ["minidock", .. args],
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

        return (pid, line.ToString().Trim());
    }
}
