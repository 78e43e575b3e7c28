using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Config;
using MiniDock.Containers.Monitor;
using MiniDock.Images;
using MiniDock.Images.Metadata;
using MiniDock.Registry;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>run [flags] IMAGE [COMMAND...]</c>: pull if missing, create, start. In the foreground this process is the
/// container's monitor (its stdio, signals and exit code are the container's); with -d a monitor process takes it.
/// Exit codes as Docker's: 125 our own error, 126 not executable, 127 not found, else the container's.
/// </summary>
internal static class RunCommand
{
    public static Command Build(string[] command, bool create = false)
    {
        var flags = new RunFlags();
        var cmd = new Command(create ? "create" : "run", create ? "Create a container without starting it" : "Create and run a container from an image");
        flags.AddTo(cmd, run: !create);
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var o = flags.Read(p, command);
            if (o.Network == "host" && (o.Publish.Count > 0 || o.PublishAll))
            {
                Console.Error.WriteLine("WARNING: Published ports are discarded when using host network mode");
            }
            var svc = services.GetRequiredService<ContainerService>();
            svc.Trace.Step("services ready, flags read");
            var image = FindOrPull(services, o.Image, o.Platform, ct);
            svc.Trace.Step($"image {image.Id[..19]} found");
            var row = svc.Create(o, image);
            svc.Trace.Step($"container {row.Id[..12]} created");
            if (create)
            {
                Console.WriteLine(row.Id);
                return 0;
            }

            if (o.Detach)
            {
                try
                {
                    MonitorLauncher.Start(row.Id);
                }
                catch (ContainerException) when (o.AutoRemove)
                {
                    svc.Remove(svc.Db.Get(row.Id) ?? row, force: true, volumes: true);
                    throw;
                }

                Console.WriteLine(row.Id);
                return 0;
            }

            try
            {
                return new ContainerMonitor(svc, row.Id).RunForeground();
            }
            catch (ContainerException) when (o.AutoRemove)
            {
                svc.Remove(svc.Db.Get(row.Id) ?? row, force: true, volumes: true);
                throw;
            }
        })));
        return cmd;
    }

    /// <summary>The image by reference or ID; a missing one is pulled first, as <c>docker run</c> does.</summary>
    public static ImageRecord FindOrPull(IServiceProvider services, string text, string? platform, CancellationToken ct)
    {
        var images = services.GetRequiredService<ImageService>();
        try
        {
            return images.Find(text);
        }
        catch (ImageException)
        {
            // Parsed first: a malformed reference is one error line, not "Unable to find" and then the error.
            var reference = Reference.Parse(text);
            Console.Error.WriteLine($"Unable to find image '{text}' locally");
            var plat = platform is { } pl ? Platform.Parse(pl) : Platform.Default;
            var img = images.PullAsync(reference, plat, ImageService.DefaultConcurrency, NoProgress.Instance, ct).GetAwaiter().GetResult();
            Console.Error.WriteLine($"{reference}: pulled {img.ManifestDigest}");
            return img;
        }
    }
}
