using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>ps [--format table|json] ID [ps-args]</c>.</summary>
internal static class PsCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var psArgs = new Argument<string[]>("ps-args") { Arity = ArgumentArity.ZeroOrMore };
        var format = new Option<string>("--format", "-f") { DefaultValueFactory = _ => "table" };
        var cmd = new Command("ps", "list the processes of a container") { id, psArgs, format };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            var store = g.Store(p);
            if (p.GetValue(format) == "json")
            {
                Console.WriteLine("[" + string.Join(',', Query.Pids(store, p.GetValue(id)!)) + "]");
            }
            else
            {
                Console.Write(Query.PsTable(store, p.GetValue(id)!, p.GetValue(psArgs) ?? []));
            }

            return 0;
        }));
        return cmd;
    }
}
