using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>events [--stats] [--interval 5s] ID</c>: runc's container events (stats and oom) as JSON lines.</summary>
internal static class EventsCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var stats = new Option<bool>("--stats") { Description = "display the container's stats once, then exit" };
        var interval = new Option<string>("--interval") { Description = "set the stats collection interval", DefaultValueFactory = _ => "5s" };
        var cmd = new Command("events", "display container events such as OOM notifications and cpu, memory and IO usage statistics") { id, stats, interval };
        cmd.SetAction((p, ct) => Task.FromResult(RuntimeCli.Guard(g, p, () =>
        {
            var store = g.Store(p);
            if (p.GetValue(stats))
            {
                Console.WriteLine(Events.Stats(store, p.GetValue(id)!));
                return 0;
            }

            Events.Stream(store, p.GetValue(id)!, ParseInterval(p.GetValue(interval)!), line =>
            {
                Console.WriteLine(line);
                Console.Out.Flush();
            }, ct);
            return 0;
        })));
        return cmd;
    }

    /// <summary>Go's duration syntax for the forms runc users write: 5s, 500ms, 1m, 1m30s.</summary>
    internal static TimeSpan ParseInterval(string text)
    {
        var total = TimeSpan.Zero;
        var m = System.Text.RegularExpressions.Regex.Matches(text, @"(\d+(?:\.\d+)?)(ms|s|m|h)");
        if (m.Count == 0 || string.Concat(m.Select(x => x.Value)) != text)
        {
            throw new Runtime.RuntimeError($"invalid duration \"{text}\"");
        }

        foreach (System.Text.RegularExpressions.Match x in m)
        {
            var v = double.Parse(x.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += x.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(v),
                "s" => TimeSpan.FromSeconds(v),
                "m" => TimeSpan.FromMinutes(v),
                _ => TimeSpan.FromHours(v),
            };
        }

        return total > TimeSpan.Zero ? total : throw new Runtime.RuntimeError("duration must be greater than 0");
    }
}
