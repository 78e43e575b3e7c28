using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>state ID</c>: the OCI state JSON (runtime.md#state).</summary>
internal static class StateCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var cmd = new Command("state", "print the state of a container") { id };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Console.WriteLine(Query.State(g.Store(p), p.GetValue(id)!));
            return 0;
        }));
        return cmd;
    }
}
