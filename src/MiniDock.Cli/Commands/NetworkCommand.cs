using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Containers;
using MiniDock.Containers.Config;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>network create|ls|inspect|rm|prune</c>: bridge networks as Docker's (built-in bridge, host and none; user-defined
/// bridges with their own subnet and name resolution between their containers).
/// </summary>
internal static class NetworkCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("name");
        var driver = new Option<string?>("--driver", "-d") { Description = "bridge (the only driver)" };
        var subnet = new Option<string?>("--subnet") { Description = "IPv4 subnet in CIDR form (default: a free /24 from 10.78.0.0)" };
        var gateway = new Option<string?>("--gateway") { Description = "the gateway's address in the subnet (default: the first)" };
        var isInternal = new Option<bool>("--internal") { Description = "no route out and no masquerade" };
        var label = new Option<string[]>("--label") { Description = "set metadata KEY=VALUE" };
        var create = new Command("create", "Create a network") { name, driver, subnet, gateway, isInternal, label };
        create.SetAction(p => UserError.Guard(services =>
        {
            var n = Svc(services).Net.Create(p.GetValue(name)!, p.GetValue(driver), p.GetValue(subnet), p.GetValue(gateway), p.GetValue(isInternal), p.GetValue(label) ?? []);
            Console.WriteLine(n.Id);
            return 0;
        }));

        var quiet = new Option<bool>("--quiet", "-q") { Description = "only IDs" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "full IDs" };
        var format = new Option<string?>("--format") { Description = "json: one object per line" };
        var ls = new Command("ls", "List networks") { quiet, noTrunc, format };
        ls.Aliases.Add("list");
        ls.SetAction(p => UserError.Guard(services =>
        {
            var rows = Svc(services).Net.List();
            var trunc = !p.GetValue(noTrunc);
            if (p.GetValue(quiet))
            {
                foreach (var n in rows)
                {
                    Console.WriteLine(trunc ? n.Id[..12] : n.Id);
                }
            }
            else if (p.GetValue(format) == "json")
            {
                foreach (var n in rows)
                {
                    Console.WriteLine(ContainerViews.Json(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("ID", trunc ? n.Id[..12] : n.Id);
                        w.WriteString("Name", n.Name);
                        w.WriteString("Driver", n.Driver);
                        w.WriteString("Scope", "local");
                        w.WriteString("Internal", n.Internal == 1 ? "true" : "false");
                        w.WriteEndObject();
                    }));
                }
            }
            else
            {
                Console.Write(Table.Render(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], rows.Select(n => (IReadOnlyList<string>)[trunc ? n.Id[..12] : n.Id, n.Name, n.Driver, "local"]).ToList()));
            }

            return 0;
        }));

        var inspectNames = new Argument<string[]>("network") { Arity = ArgumentArity.OneOrMore };
        var inspect = new Command("inspect", "Show network details") { inspectNames };
        inspect.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            var items = p.GetValue(inspectNames)!.Select(svc.Net.Require).ToList();
            Console.WriteLine(ContainerViews.Json(w =>
            {
                w.WriteStartArray();
                foreach (var n in items)
                {
                    Inspect(w, svc, n);
                }

                w.WriteEndArray();
            }, indented: true));
            return 0;
        }));

        var rmNames = new Argument<string[]>("network") { Arity = ArgumentArity.OneOrMore };
        var rm = new Command("rm", "Remove networks") { rmNames };
        rm.Aliases.Add("remove");
        rm.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            return UserError.EachName(p.GetValue(rmNames)!, n => svc.Net.Remove(svc.Net.Require(n)));
        }));

        var force = new Option<bool>("--force", "-f") { Description = "do not prompt (MiniDock never prompts)" };
        var prune = new Command("prune", "Remove user-defined networks no container uses") { force };
        prune.SetAction(p => UserError.Guard(services =>
        {
            var svc = Svc(services);
            var used = svc.Db.All().Select(r => RunOptionsJson.Read(r.Options).Network).ToHashSet(StringComparer.Ordinal);
            Console.WriteLine("Deleted Networks:");
            foreach (var n in svc.Net.List().Where(n => n.Builtin == 0 && !used.Contains(n.Name) && !used.Contains(n.Id)))
            {
                try
                {
                    svc.Net.Remove(n);
                    Console.WriteLine(n.Name);
                }
                catch (ContainerException)
                {
                    // Gained an endpoint meanwhile: in use after all.
                }
            }

            return 0;
        }));
        return new Command("network", "Manage networks") { create, ls, inspect, rm, prune };
    }

    /// <summary>Docker's network inspect object (the fields a local bridge has).</summary>
    private static void Inspect(Utf8JsonWriter w, ContainerService svc, NetworkRow n)
    {
        w.WriteStartObject();
        w.WriteString("Name", n.Name);
        w.WriteString("Id", n.Id);
        w.WriteString("Created", new DateTime(n.Created, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        w.WriteString("Scope", "local");
        w.WriteString("Driver", n.Driver);
        w.WriteBoolean("EnableIPv6", false);
        w.WriteStartObject("IPAM");
        w.WriteString("Driver", "default");
        w.WriteStartObject("Options");
        w.WriteEndObject();
        w.WriteStartArray("Config");
        if (n.Subnet.Length > 0)
        {
            w.WriteStartObject();
            w.WriteString("Subnet", n.Subnet);
            w.WriteString("Gateway", n.Gateway);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteBoolean("Internal", n.Internal == 1);
        w.WriteBoolean("Attachable", false);
        w.WriteBoolean("Ingress", false);
        w.WriteStartObject("Containers");
        foreach (var e in svc.Db.Endpoints(n.Id))
        {
            w.WriteStartObject(e.ContainerId);
            w.WriteString("Name", e.ContainerName);
            w.WriteString("MacAddress", e.Mac);
            w.WriteString("IPv4Address", e.Address);
            w.WriteString("IPv6Address", "");
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("Options");
        if (n.Bridge.Length > 0)
        {
            w.WriteString("com.docker.network.bridge.name", n.Bridge);
        }

        w.WriteEndObject();
        w.WriteStartObject("Labels");
        using (var labels = JsonDocument.Parse(n.Labels))
        {
            foreach (var l in labels.RootElement.EnumerateObject())
            {
                w.WriteString(l.Name, l.Value.GetString());
            }
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static ContainerService Svc(IServiceProvider s) => s.GetRequiredService<ContainerService>();
}
