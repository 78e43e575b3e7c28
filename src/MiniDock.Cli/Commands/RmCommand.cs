using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>rm [-f] [-v] CONTAINER...</c>.</summary>
internal static class RmCommand
{
    public static Command Build(string name = "rm")
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "kill a running container first" };
        var volumes = new Option<bool>("--volumes", "-v") { Description = "remove its anonymous volumes too" };
        var cmd = new Command(name, "Remove one or more containers") { names, force, volumes };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            return UserError.EachName(p.GetValue(names)!, n => svc.Remove(svc.Require(n), p.GetValue(force), p.GetValue(volumes)));
        }));
        return cmd;
    }
}
