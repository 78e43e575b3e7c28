using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>kill [--all] ID [SIGNAL]</c> (default SIGTERM).</summary>
internal static class KillCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var sig = new Argument<string>("signal") { Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "TERM" };
        var all = new Option<bool>("--all", "-a") { Description = "signal every process in the container's cgroup" };
        var cmd = new Command("kill", "send a signal to a container's init") { id, sig, all };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Kill.Run(g.Store(p), p.GetValue(id)!, Kill.ParseSignal(p.GetValue(sig) ?? "TERM"), p.GetValue(all), g.Trace(p));
            return 0;
        }));
        return cmd;
    }
}
