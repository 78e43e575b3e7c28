using MiniDock.Cli.RuntimeCommands;
using MiniDock.Runtime.Init;

namespace MiniDock.Cli;

/// <summary>
/// The one executable. argv[0] picks the personality: <c>minidock-runtime</c> speaks runc's command
/// line exactly (so podman and containerd can drive it); <c>minidock</c> is the user CLI. The hidden
/// <c>init</c> entry is the container's init, re-exec'd by <c>create</c> (design-notes §1).
/// </summary>
public static class Program
{
    /// <summary>When this process began (for MINIDOCK_TRACE's step times).</summary>
    public static long Started { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    public static int Main(string[] args)
    {
        _ = Started;
        if (args is ["init"])
        {
            return InitProcess.Main();
        }

        if (args.Length >= 2 && args[0] == Containers.Monitor.MonitorLauncher.Command)
        {
            return Commands.MonitorCommand.Run(args[1], args.Contains("--wait-attach"), args.Contains("--restarting"));
        }

        if (args.Length == 2 && args[0] == Containers.Networks.DnsLauncher.Command)
        {
            return Commands.NetworkDnsCommand.Run(args[1]);
        }

        var name = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        if (name.Contains("runtime", StringComparison.Ordinal) || name == "runc")
        {
            return RuntimeCli.Run(args);
        }

        return UserCli.Run(args);
    }
}
