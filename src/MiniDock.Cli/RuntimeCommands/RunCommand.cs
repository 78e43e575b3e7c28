using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>run [--detach] ID</c>: create + start; in the foreground, wait and delete, exiting with the container's code.</summary>
internal static class RunCommand
{
    public static Command Build(GlobalOptions g)
    {
        var o = new LaunchOptions();
        var detach = new Option<bool>("--detach", "-d") { Description = "return once started" };
        var keep = new Option<bool>("--keep") { Description = "accepted for compatibility" };
        var cmd = new Command("run", "create and start a container") { detach, keep };
        o.AddTo(cmd);
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () => RunContainer.Run(g.Store(p), o.Read(p), p.GetValue(detach), g.Trace(p))));
        return cmd;
    }
}
