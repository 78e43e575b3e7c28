using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Monitor;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary><c>start [-a] CONTAINER...</c>: a monitor process starts each; -a attaches to the (one) container first.</summary>
internal static class StartCommand
{
    public static Command Build()
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var attach = new Option<bool>("--attach", "-a") { Description = "attach stdout/stderr and return the container's exit code" };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "attach stdin too" };
        var cmd = new Command("start", "Start one or more stopped containers") { names, attach, interactive };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var all = p.GetValue(names)!;
            if (p.GetValue(attach) && all.Length != 1)
            {
                throw new Containers.Config.ContainerException("you cannot start and attach multiple containers at once");
            }

            foreach (var name in all)
            {
                var row = svc.Require(name);
                var state = svc.Refresh(row);
                if (!ContainerStates.CanStart(state))
                {
                    if (!p.GetValue(attach))
                    {
                        Console.WriteLine(name);
                    }

                    continue;
                }

                if (p.GetValue(attach))
                {
                    var client = AttachCommand.Connect(svc, row.Id, () => MonitorLauncher.Start(row.Id, waitForAttach: true));
                    return client.Run(p.GetValue(interactive));
                }

                MonitorLauncher.Start(row.Id);
                Console.WriteLine(name);
            }

            return 0;
        }));
        return cmd;
    }
}
