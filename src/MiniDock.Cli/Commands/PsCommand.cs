using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Containers;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>ps [-a] [-q] [--no-trunc] [--filter K=V] [--format json|TEMPLATE]</c>. Every row's state is checked against
/// the live process first (<see cref="ContainerService.Refresh"/>), so ps stays true after a killed CLI or monitor.
/// </summary>
internal static class PsCommand
{
    public static Command Build(string name = "ps")
    {
        var all = new Option<bool>("--all", "-a") { Description = "show all containers (default: running)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "only IDs" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "do not truncate" };
        var filter = new Option<string[]>("--filter", "-f") { Description = "status=, name=, id=, ancestor=, exited=, label=" };
        var format = new Option<string?>("--format") { Description = "json (one object per line) or a Go-template subset" };
        var cmd = new Command(name, "List containers") { all, quiet, noTrunc, filter, format };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var filters = (p.GetValue(filter) ?? []).Select(f =>
            {
                var eq = f.IndexOf('=');
                return eq > 0 ? (Key: f[..eq], Value: f[(eq + 1)..]) : throw new FormatException($"bad format of filter (expected name=value): {f}");
            }).ToList();

            // Checked before any row is seen: an unknown key is an error even when no container exists.
            if (filters.Select(f => f.Key).FirstOrDefault(k => k is not ("status" or "name" or "id" or "ancestor" or "exited" or "label")) is { } unknown)
            {
                throw new FormatException($"invalid filter '{unknown}'");
            }

            var showAll = p.GetValue(all) || filters.Any(f => f.Key is "status" or "exited");
            var rows = svc.List().Where(x => showAll || x.State is ContainerState.Running or ContainerState.Paused or ContainerState.Restarting)
                .Where(x => filters.All(f => Matches(x.Row, x.State, f.Key, f.Value))).ToList();
            var trunc = !p.GetValue(noTrunc);
            if (p.GetValue(quiet))
            {
                foreach (var (r, _) in rows)
                {
                    Console.WriteLine(trunc ? r.Id[..12] : r.Id);
                }

                return 0;
            }

            if (p.GetValue(format) is { } fmt)
            {
                foreach (var (r, s) in rows)
                {
                    var json = ContainerViews.PsJson(r, s, ContainerViews.Ports(svc, r));
                    if (fmt == "json" || fmt == "{{json .}}")
                    {
                        Console.WriteLine(json);
                    }
                    else
                    {
                        using var doc = JsonDocument.Parse(json);
                        Console.WriteLine(Template.Render(fmt, doc.RootElement));
                    }
                }

                return 0;
            }

            var table = rows.Select(x => (IReadOnlyList<string>)
            [
                trunc ? x.Row.Id[..12] : x.Row.Id, x.Row.Image, ContainerViews.Command(x.Row, trunc),
                ContainerViews.HumanDuration(DateTime.UtcNow - new DateTime(x.Row.Created, DateTimeKind.Utc)) + " ago",
                ContainerViews.Status(x.Row, x.State), ContainerViews.Ports(svc, x.Row), x.Row.Name,
            ]).ToList();
            Console.Write(Table.Render(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], table));
            return 0;
        }));
        return cmd;
    }

    private static bool Matches(ContainerRow r, ContainerState s, string key, string value) => key switch
    {
        "status" => ContainerStates.Name(s) == value,
        "name" => r.Name.Contains(value.TrimStart('/'), StringComparison.Ordinal),
        "id" => r.Id.StartsWith(value, StringComparison.Ordinal),
        "ancestor" => r.Image == value || r.ImageId == value || r.ImageId.StartsWith("sha256:" + value, StringComparison.Ordinal),
        "exited" => s == ContainerState.Exited && r.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) == value,
        "label" => RunOptionsJson.Read(r.Options).Labels.Any(l => l == value || l.StartsWith(value + "=", StringComparison.Ordinal)),
        _ => throw new FormatException($"invalid filter '{key}'"),
    };
}
