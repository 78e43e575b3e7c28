using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary><c>image ls|pull|inspect|rm|prune|tag</c>, and <c>system df</c>.</summary>
internal static class ImageCommand
{
    public static Command Build()
    {
        var cmd = new Command("image", "Manage images");
        cmd.Subcommands.Add(ImagesCommand.Build("ls"));
        cmd.Subcommands.Add(PullCommand.Build());
        cmd.Subcommands.Add(RmiCommand.Build("rm"));
        cmd.Subcommands.Add(TagCommand.Build());
        cmd.Subcommands.Add(Inspect());
        cmd.Subcommands.Add(Prune());
        return cmd;
    }

    private static Command Inspect()
    {
        var images = new Argument<string[]>("image") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("inspect", "Show an image's record, layers and config as JSON") { images };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ImageService>();
            Console.WriteLine("[" + string.Join(",\n", p.GetValue(images)!.Select(svc.Inspect)) + "]");
            return 0;
        }));
        return cmd;
    }

    private static Command Prune()
    {
        var all = new Option<bool>("--all", "-a") { Description = "remove all images not used by a container, not just untagged ones" };
        var force = new Option<bool>("--force", "-f") { Description = "do not ask (MiniDock never asks)" };
        var cmd = new Command("prune", "Remove unused images") { all, force };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var containers = services.GetRequiredService<Containers.ContainerService>();
            var lines = services.GetRequiredService<ImageService>().Prune(p.GetValue(all), id => containers.ImageUser(id) is not null);
            foreach (var l in lines)
            {
                Console.WriteLine(l);
            }

            Console.WriteLine($"Total: {lines.Count(l => l.StartsWith("deleted", StringComparison.Ordinal))} images deleted");
            return 0;
        }));
        return cmd;
    }

    public static Command System()
    {
        var cmd = new Command("system", "Manage MiniDock");
        var df = new Command("df", "Show disk usage");
        df.SetAction(p => UserError.Guard(services =>
        {
            var (images, size, reclaimable) = services.GetRequiredService<ImageService>().DiskUsage();
            Console.WriteLine($"{"TYPE",-15} {"TOTAL",-8} {"SIZE",-12} RECLAIMABLE");
            Console.WriteLine($"{"Images",-15} {images,-8} {PullPrinter.Human(size),-12} {PullPrinter.Human(reclaimable)}");
            return 0;
        }));
        cmd.Subcommands.Add(df);
        return cmd;
    }
}
