using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary><c>tag SOURCE TARGET</c>.</summary>
internal static class TagCommand
{
    public static Command Build()
    {
        var source = new Argument<string>("source");
        var target = new Argument<string>("target");
        var cmd = new Command("tag", "Create a tag TARGET that refers to SOURCE") { source, target };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            services.GetRequiredService<ImageService>().Tag(p.GetValue(source)!, p.GetValue(target)!);
            return 0;
        }));
        return cmd;
    }
}
