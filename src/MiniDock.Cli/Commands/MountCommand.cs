using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>mount CONTAINER</c> prints the merged rootfs path, mounting it (as podman does); <c>unmount</c> undoes it.</summary>
internal static class MountCommand
{
    public static Command Build(bool unmount = false)
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command(unmount ? "unmount" : "mount", unmount ? "Unmount a container's root filesystem" : "Mount a container's root filesystem and print its path") { names };
        if (unmount)
        {
            cmd.Aliases.Add("umount");
        }

        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            foreach (var n in p.GetValue(names)!)
            {
                var row = svc.Require(n);
                if (unmount)
                {
                    svc.Unmount(row);
                    Console.WriteLine(row.Id);
                }
                else
                {
                    Console.WriteLine(svc.Mount(row));
                }
            }

            return 0;
        }));
        return cmd;
    }
}
