using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>delete [--force] ID</c>: only a stopped container, unless forced.</summary>
internal static class DeleteCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var force = new Option<bool>("--force", "-f") { Description = "kill the container first if it is not stopped" };
        var cmd = new Command("delete", "delete a stopped container and everything it holds") { id, force };
        cmd.Aliases.Add("rm");
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Delete.Run(g.Store(p), p.GetValue(id)!, p.GetValue(force), g.Trace(p));
            return 0;
        }));
        return cmd;
    }
}
