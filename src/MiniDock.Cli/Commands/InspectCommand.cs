using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Containers;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>inspect [-f TEMPLATE] NAME...</c>: a JSON array shaped like Docker's, for containers, falling back to images
/// (as <c>docker inspect</c> does). <c>-f '{{.State.ExitCode}}'</c> renders each element through a Go-template subset.
/// </summary>
internal static class InspectCommand
{
    public static Command Build(string name = "inspect")
    {
        var names = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore };
        var format = new Option<string?>("--format", "-f") { Description = "Go-template subset, e.g. {{.State.ExitCode}}" };
        var cmd = new Command(name, "Show low-level information on containers or images") { names, format };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var images = services.GetRequiredService<ImageService>();
            var elements = new List<string>();
            var rc = 0;
            foreach (var n in p.GetValue(names)!)
            {
                if (svc.Db.Find(n) is { } row)
                {
                    var state = svc.Refresh(row);
                    row = svc.Db.Get(row.Id) ?? row;
                    elements.Add(ContainerViews.Json(w => ContainerViews.Inspect(w, svc, row, state), indented: true));
                    continue;
                }

                try
                {
                    elements.Add(images.Inspect(n));
                }
                catch (ImageException)
                {
                    Console.Error.WriteLine($"Error: No such object: {n}");
                    rc = 1;
                }
            }

            if (p.GetValue(format) is { } fmt)
            {
                foreach (var e in elements)
                {
                    using var doc = JsonDocument.Parse(e);
                    Console.WriteLine(Template.Render(fmt, doc.RootElement));
                }
            }
            else
            {
                Console.WriteLine("[" + string.Join(",\n", elements) + "]");
            }

            return rc;
        }));
        return cmd;
    }
}
