using System.CommandLine;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary><c>create [--bundle DIR] [--pid-file F] [--console-socket S] ID</c>.</summary>
internal static class CreateCommand
{
    public static Command Build(GlobalOptions g)
    {
        var o = new LaunchOptions();
        var cmd = new Command("create", "create a container from a bundle; its process waits for start");
        o.AddTo(cmd);
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            Create.Run(g.Store(p), o.Read(p), g.Trace(p));
            return 0;
        }));
        return cmd;
    }
}

/// <summary>The flags create and run share.</summary>
internal sealed class LaunchOptions
{
    public Argument<string> Id { get; } = new("container-id");

    public Option<string> Bundle { get; } = new("--bundle", "-b") { Description = "path to the bundle directory", DefaultValueFactory = _ => "." };

    public Option<string?> PidFile { get; } = new("--pid-file") { Description = "write the init's host PID here" };

    public Option<string?> ConsoleSocket { get; } = new("--console-socket") { Description = "AF_UNIX socket that receives the pty master" };

    public Option<int> PreserveFds { get; } = new("--preserve-fds") { Description = "pass N extra fds (from 3) to the container" };

    public Option<bool> NoPivot { get; } = new("--no-pivot") { Description = "accepted for compatibility; pivot_root is always used" };

    public Option<bool> NoNewKeyring { get; } = new("--no-new-keyring") { Description = "accepted for compatibility" };

    public void AddTo(Command cmd)
    {
        cmd.Arguments.Add(Id);
        foreach (var opt in new Option[] { Bundle, PidFile, ConsoleSocket, PreserveFds, NoPivot, NoNewKeyring })
        {
            cmd.Options.Add(opt);
        }
    }

    public CreateOptions Read(ParseResult p) => new()
    {
        Id = p.GetValue(Id)!,
        Bundle = p.GetValue(Bundle) ?? ".",
        PidFile = p.GetValue(PidFile),
        ConsoleSocket = p.GetValue(ConsoleSocket),
        PreserveFds = p.GetValue(PreserveFds),
    };
}
