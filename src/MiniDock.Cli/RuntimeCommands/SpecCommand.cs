using System.CommandLine;
using MiniDock.Runtime;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>spec [--bundle DIR]</c>: write a default config.json.</summary>
internal static class SpecCommand
{
    public static Command Build(GlobalOptions g)
    {
        var bundle = new Option<string>("--bundle", "-b") { DefaultValueFactory = _ => "." };
        var cmd = new Command("spec", "write a new config.json") { bundle };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            var path = Path.Combine(p.GetValue(bundle) ?? ".", "config.json");
            if (File.Exists(path))
            {
                throw new RuntimeError($"{path} already exists; remove it first");
            }

            File.WriteAllText(path, DefaultSpec.Json + "\n");
            return 0;
        }));
        return cmd;
    }
}
