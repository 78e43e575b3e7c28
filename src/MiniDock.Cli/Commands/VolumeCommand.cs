using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Containers;

namespace MiniDock.Cli.Commands;

/// <summary><c>volume create|ls|inspect|rm|prune</c>: local volumes under DATA/volumes, as Docker's local driver.</summary>
internal static class VolumeCommand
{
    public static Command Build()
    {
        var createName = new Argument<string?>("name") { Arity = ArgumentArity.ZeroOrOne };
        var create = new Command("create", "Create a volume") { createName };
        create.SetAction(p => UserError.Guard(services =>
        {
            Console.WriteLine(Svc(services).Volumes.Create(p.GetValue(createName)).Name);
            return 0;
        }));

        var quiet = new Option<bool>("--quiet", "-q") { Description = "only names" };
        var ls = new Command("ls", "List volumes") { quiet };
        ls.SetAction(p => UserError.Guard(services =>
        {
            var vols = Svc(services).Volumes.List();
            if (p.GetValue(quiet))
            {
                foreach (var v in vols)
                {
                    Console.WriteLine(v.Name);
                }
            }
            else
            {
                Console.Write(Table.Render(["DRIVER", "VOLUME NAME"], vols.Select(v => (IReadOnlyList<string>)["local", v.Name]).ToList()));
            }

            return 0;
        }));

        var inspectNames = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore };
        var inspect = new Command("inspect", "Show volume details") { inspectNames };
        inspect.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            var items = p.GetValue(inspectNames)!.Select(n => svc.Volumes.Get(n) ?? throw new Containers.Volumes.VolumeException($"no such volume: {n}")).ToList();
            Console.WriteLine(ContainerViews.Json(w =>
            {
                w.WriteStartArray();
                foreach (var v in items)
                {
                    w.WriteStartObject();
                    w.WriteString("CreatedAt", v.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteString("Driver", "local");
                    w.WriteString("Mountpoint", v.Mountpoint);
                    w.WriteString("Name", v.Name);
                    w.WriteString("Scope", "local");
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }, indented: true));
            return 0;
        }));

        var rmNames = new Argument<string[]>("name") { Arity = ArgumentArity.OneOrMore };
        var rm = new Command("rm", "Remove volumes") { rmNames };
        rm.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            foreach (var n in p.GetValue(rmNames)!)
            {
                svc.Volumes.Remove(n, svc.VolumeInUse);
                Console.WriteLine(n);
            }

            return 0;
        }));

        var all = new Option<bool>("--all", "-a") { Description = "remove all unused volumes, not just anonymous ones" };
        var force = new Option<bool>("--force", "-f") { Description = "do not prompt (MiniDock never prompts)" };
        var prune = new Command("prune", "Remove unused volumes") { all, force };
        prune.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            Console.WriteLine("Deleted Volumes:");
            foreach (var n in svc.Volumes.Prune(svc.VolumeInUse, p.GetValue(all)))
            {
                Console.WriteLine(n);
            }

            return 0;
        }));
        return new Command("volume", "Manage volumes") { create, ls, inspect, rm, prune };
    }

    private static ContainerService Svc(IServiceProvider s) => s.GetRequiredService<ContainerService>();
}
