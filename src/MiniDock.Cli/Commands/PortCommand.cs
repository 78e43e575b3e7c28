using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Networks;

namespace MiniDock.Cli.Commands;

/// <summary><c>port CONTAINER [PRIVATE_PORT[/PROTO]]</c>: the host addresses a running container's ports are published on.</summary>
internal static class PortCommand
{
    public static Command Build()
    {
        var container = new Argument<string>("container");
        var port = new Argument<string?>("private-port") { Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("port", "List port mappings of a container") { container, port };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var row = svc.Require(p.GetValue(container)!);
            svc.Refresh(row);
            var ports = svc.Net.EndpointsOf(row.Id).SelectMany(e => PortSpec.FromJson(e.Ports)).ToList();
            foreach (var line in PortSpec.PortLines(ports, p.GetValue(port), row.Name))
            {
                Console.WriteLine(line);
            }

            return 0;
        }));
        return cmd;
    }
}
