using System.CommandLine;
using MiniDock.Runtime;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>features</c>: the runtime-spec features document.</summary>
internal static class FeaturesCommand
{
    public static Command Build(GlobalOptions g)
    {
        var cmd = new Command("features", "print what this runtime supports (runtime-spec features.md)");
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Console.WriteLine(Features.Json());
            return 0;
        }));
        return cmd;
    }
}
