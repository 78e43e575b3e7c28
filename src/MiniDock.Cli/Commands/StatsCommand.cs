using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Cli.Output;
using MiniDock.Containers;
using MiniDock.Containers.Resources;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>stats [-a] [--no-stream] [--no-trunc] [--format json|TEMPLATE] [CONTAINER...]</c>
/// (https://docs.docker.com/reference/cli/docker/container/stats/): CPU %, memory, block I/O and pids of each
/// container, read from its cgroup through the engine. CPU % needs two readings: <c>--no-stream</c> takes them
/// <see cref="Interval"/> apart and prints once; otherwise the table is redrawn every second until Ctrl-C
/// (the screen cleared first on a terminal, repeated tables when piped).
/// </summary>
internal static class StatsCommand
{
    /// <summary>The gap between the two readings of <c>--no-stream</c>.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public static Command Build()
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all", "-a") { Description = "show all containers (default: running)" };
        var noStream = new Option<bool>("--no-stream") { Description = "print one reading and exit" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "do not truncate IDs" };
        var format = new Option<string?>("--format") { Description = "table (default), json, or a Go-template subset (table TEMPLATE for headers)" };
        var cmd = new Command("stats", "Display a live stream of container(s) resource usage statistics") { names, all, noStream, noTrunc, format };
        cmd.SetAction((p, ct) => Task.FromResult(UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var given = p.GetValue(names) ?? [];
            foreach (var n in given)
            {
                svc.Require(n); // Docker's "No such container" before anything is printed
            }

            var sampler = new StatsSampler(svc);
            var trunc = !p.GetValue(noTrunc);
            var fmt = p.GetValue(format);
            IReadOnlyList<(ContainerRow Row, string? Given)> Targets() => given.Length > 0
                ? [.. given.Select(n => (svc.Db.Find(n) ?? svc.Require(n), (string?)n))]
                : [.. svc.List().Where(x => p.GetValue(all) || x.State is ContainerState.Running or ContainerState.Paused).Select(x => (x.Row, (string?)null))];

            string Frame() => StatsView.Render([.. Targets().Select(t => (sampler.Sample(t.Row), t.Given))], fmt, trunc);

            // The first reading only sets each container's baseline for CPU %.
            foreach (var t in Targets())
            {
                sampler.Sample(t.Row);
            }

            ct.WaitHandle.WaitOne(Interval);
            if (p.GetValue(noStream))
            {
                Console.Write(Frame());
                return 0;
            }

            var tty = !Console.IsOutputRedirected;
            while (!ct.IsCancellationRequested)
            {
                var frame = Frame();
                Console.Write(tty ? "\u001b[2J\u001b[H" + frame : frame);
                Console.Out.Flush();
                ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }

            return 0;
        })));
        return cmd;
    }
}
