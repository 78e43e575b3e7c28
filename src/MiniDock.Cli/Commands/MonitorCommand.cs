using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Monitor;

namespace MiniDock.Cli.Commands;

/// <summary>The hidden <c>container-monitor ID</c> entry: a detached container's monitor (see <see cref="MonitorLauncher"/>); fd 3 is its report pipe.</summary>
internal static class MonitorCommand
{
    public static int Run(string id, bool waitForAttach, bool restarting)
    {
        try
        {
            using var services = Services.Build();
            return new ContainerMonitor(services.GetRequiredService<ContainerService>(), id).RunDetached(3, waitForAttach, restarting);
        }
        catch (Exception e)
        {
            // Before the report: tell the CLI (fd 3 is closed once "ok" was written, so this is a no-op after).
            try
            {
                Native.Sys.WriteAll(3, System.Text.Encoding.UTF8.GetBytes($"err 125 {e.Message.Split('\n')[0]}\n"));
            }
            catch (Native.SysException)
            {
            }

            return 125;
        }
    }
}
