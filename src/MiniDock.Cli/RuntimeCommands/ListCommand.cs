using System.CommandLine;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>list [--format table|json] [-q]</c>, as runc prints it.</summary>
internal static class ListCommand
{
    public static Command Build(GlobalOptions g)
    {
        var format = new Option<string>("--format", "-f") { DefaultValueFactory = _ => "table", Description = "table or json" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only ids" };
        var cmd = new Command("list", "list containers") { format, quiet };
        cmd.Aliases.Add("ls");
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            var list = Query.List(g.Store(p));
            if (p.GetValue(quiet))
            {
                foreach (var c in list)
                {
                    Console.WriteLine(c.Id);
                }
            }
            else if (p.GetValue(format) == "json")
            {
                Console.WriteLine(System.Text.Encoding.UTF8.GetString(StateJson.WriteList(list)));
            }
            else
            {
                Console.WriteLine($"{"ID",-20} {"PID",-8} {"STATUS",-10} {"BUNDLE",-40} {"CREATED",-31} OWNER");
                foreach (var c in list)
                {
                    Console.WriteLine($"{c.Id,-20} {c.Pid,-8} {c.Status,-10} {c.Bundle,-40} {c.Created:O} {c.Owner}");
                }
            }

            return 0;
        }));
        return cmd;
    }
}
