using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>start ID</c>.</summary>
internal static class StartCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var cmd = new Command("start", "run the process of a created container") { id };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Start.Run(g.Store(p), p.GetValue(id)!, g.Trace(p));
            return 0;
        }));
        return cmd;
    }
}
