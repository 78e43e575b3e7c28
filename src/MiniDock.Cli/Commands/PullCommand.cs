using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Images;
using MiniDock.Registry;

namespace MiniDock.Cli.Commands;

/// <summary><c>pull [-q] [--platform os/arch[/variant]] [--concurrency N] IMAGE</c>.</summary>
internal static class PullCommand
{
    public static Command Build()
    {
        var image = new Argument<string>("image") { Description = "NAME[:TAG|@DIGEST]" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the image reference" };
        var platform = new Option<string?>("--platform") { Description = "os/arch[/variant] to choose from a multi-platform image (default linux/amd64)" };
        var concurrency = new Option<int>("--concurrency") { Description = "layers downloaded at once", DefaultValueFactory = _ => ImageService.DefaultConcurrency };
        var cmd = new Command("pull", "Download an image from a registry") { image, quiet, platform, concurrency };
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var reference = Reference.Parse(p.GetValue(image)!);
            var plat = p.GetValue(platform) is { } text ? Platform.Parse(text) : Platform.Default;
            var printer = new PullPrinter();
            var quietMode = p.GetValue(quiet);
            var img = services.GetRequiredService<ImageService>()
                .PullAsync(reference, plat, p.GetValue(concurrency), quietMode ? NoProgress.Instance : printer, ct).GetAwaiter().GetResult();
            printer.Finish(reference.ToString(), img.ManifestDigest, quietMode);
            return 0;
        })));
        return cmd;
    }
}
