using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>stop [-t N] CONTAINER...</c> and <c>restart [-t N] CONTAINER...</c>: the stop signal, SIGKILL after the timeout.</summary>
internal static class StopCommand
{
    public static Command Build(bool restart = false)
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var time = new Option<int?>("--time", "-t") { Description = "seconds to wait before killing (default: the container's stop timeout, 10)" };
        var cmd = new Command(restart ? "restart" : "stop", restart ? "Restart one or more containers" : "Stop one or more running containers") { names, time };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            return UserError.EachName(p.GetValue(names)!, name =>
            {
                var row = svc.Require(name);
                svc.Stop(row, p.GetValue(time));
                if (restart)
                {
                    Containers.Monitor.MonitorLauncher.Start(row.Id);
                }
            });
        }));
        return cmd;
    }
}
