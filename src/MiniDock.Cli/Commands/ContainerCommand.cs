using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary><c>container ls|rm|inspect|prune|stop|start|kill|logs|wait</c>: Docker's management-command spelling.</summary>
internal static class ContainerCommand
{
    public static Command Build()
    {
        var cmd = new Command("container", "Manage containers")
        {
            PsCommand.Build("ls"), RmCommand.Build(), InspectCommand.Build(), Prune(), StartCommand.Build(), StopCommand.Build(),
            StopCommand.Build(restart: true), KillCommand.Build(), LogsCommand.Build(), WaitCommand.Build(),
            PauseCommand.Build(), PauseCommand.Build(pause: false), UpdateCommand.Build(), StatsCommand.Build(),
        };
        return cmd;
    }

    /// <summary><c>container prune [-f]</c>: removes every container that is not running (and their anonymous volumes stay, as Docker's).</summary>
    private static Command Prune()
    {
        var force = new Option<bool>("--force", "-f") { Description = "do not prompt (MiniDock never prompts)" };
        var cmd = new Command("prune", "Remove all stopped containers") { force };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            Console.WriteLine("Deleted Containers:");
            foreach (var (row, state) in svc.List())
            {
                if (state is ContainerState.Exited or ContainerState.Created or ContainerState.Dead)
                {
                    svc.Remove(row, force: false, volumes: false);
                    Console.WriteLine(row.Id);
                }
            }

            return 0;
        }));
        return cmd;
    }
}
