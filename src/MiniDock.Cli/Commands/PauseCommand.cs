using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>pause CONTAINER...</c> and <c>unpause CONTAINER...</c>: freeze and thaw every process of a container through
/// the cgroup freezer (https://docs.docker.com/reference/cli/docker/container/pause/); ps and inspect then say Paused.
/// </summary>
internal static class PauseCommand
{
    public static Command Build(bool pause = true)
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command(pause ? "pause" : "unpause", pause ? "Pause all processes within one or more containers" : "Unpause all processes within one or more containers") { names };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            return UserError.EachName(p.GetValue(names)!, name =>
            {
                var row = svc.Require(name);
                if (pause)
                {
                    svc.Pause(row);
                }
                else
                {
                    svc.Unpause(row);
                }
            });
        }));
        return cmd;
    }
}
