using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>kill [-s SIGNAL] CONTAINER...</c> (default SIGKILL, as Docker).</summary>
internal static class KillCommand
{
    public static Command Build()
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var signal = new Option<string>("--signal", "-s") { Description = "signal to send", DefaultValueFactory = _ => "KILL" };
        var cmd = new Command("kill", "Kill one or more running containers") { names, signal };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            return UserError.EachName(p.GetValue(names)!, name => svc.Kill(svc.Require(name), p.GetValue(signal)!));
        }));
        return cmd;
    }
}
