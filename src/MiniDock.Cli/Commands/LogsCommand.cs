using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Logs;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary><c>logs [-f] [--tail N|all] [-t] CONTAINER</c>, from the container's json-file log.</summary>
internal static class LogsCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("container");
        var follow = new Option<bool>("--follow", "-f") { Description = "follow the output" };
        var tail = new Option<string>("--tail", "-n") { Description = "number of lines from the end (or all)", DefaultValueFactory = _ => "all" };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "show timestamps" };
        var cmd = new Command("logs", "Fetch the logs of a container") { name, follow, tail, timestamps };
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var row = svc.Require(p.GetValue(name)!);
            var path = svc.Paths.Log(row.Id);
            var tailText = p.GetValue(tail)!;
            var n = tailText == "all" ? -1 : int.TryParse(tailText, out var t) && t >= 0 ? t : throw new FormatException($"invalid --tail {tailText}");
            var ts = p.GetValue(timestamps);
            using var stdout = Console.OpenStandardOutput();
            using var stderr = Console.OpenStandardError();
            if (!File.Exists(path))
            {
                return 0;
            }

            if (p.GetValue(follow))
            {
                var e = JsonLogReader.FollowAsync(path, n, () => svc.Db.Get(row.Id) is { } r && ContainerStates.IsActive(svc.Refresh(r)), ct).GetAsyncEnumerator(ct);
                try
                {
                    while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult())
                    {
                        LogPrinter.Print(e.Current, ts, stdout, stderr);
                    }
                }
                finally
                {
                    e.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }

                return 0;
            }

            foreach (var entry in n >= 0 ? JsonLogReader.Tail(path, n) : JsonLogReader.Read(path))
            {
                LogPrinter.Print(entry, ts, stdout, stderr);
            }

            return 0;
        })));
        return cmd;
    }
}
