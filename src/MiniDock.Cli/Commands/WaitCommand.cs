using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>wait CONTAINER...</c>: block until each stops, print its exit code.</summary>
internal static class WaitCommand
{
    public static Command Build()
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("wait", "Block until one or more containers stop, then print their exit codes") { names };
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            foreach (var name in p.GetValue(names)!)
            {
                Console.WriteLine(svc.Wait(svc.Require(name), ct));
            }

            return 0;
        })));
        return cmd;
    }
}
