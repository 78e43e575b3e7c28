using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>pause ID</c> and <c>resume ID</c>.</summary>
internal static class PauseCommand
{
    public static Command Build(GlobalOptions g, bool pause)
    {
        var id = new Argument<string>("container-id");
        var cmd = new Command(pause ? "pause" : "resume", pause ? "freeze every process of a container" : "thaw a paused container") { id };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Pause.Run(g.Store(p), p.GetValue(id)!, pause, g.Trace(p));
            return 0;
        }));
        return cmd;
    }
}
