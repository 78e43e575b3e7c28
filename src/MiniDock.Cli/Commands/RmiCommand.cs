using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary><c>rmi [-f] IMAGE...</c>: untag, and delete what nothing refers to any more.</summary>
internal static class RmiCommand
{
    public static Command Build(string name = "rmi")
    {
        var images = new Argument<string[]>("image") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "remove even if referenced by several tags" };
        var cmd = new Command(name, "Remove images") { images, force };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ImageService>();
            foreach (var img in p.GetValue(images)!)
            {
                var containers = services.GetRequiredService<Containers.ContainerService>();
                foreach (var line in svc.Remove(img, p.GetValue(force), containers.ImageUser))
                {
                    Console.WriteLine(line);
                }
            }

            return 0;
        }));
        return cmd;
    }
}
