using System.CommandLine;
using MiniDock.Cli.Output;
using MiniDock.Native;
using MiniDock.Runtime;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary>
/// <c>minidock-runtime</c>: runc's command line (names, flags, exit codes, log format), so that any
/// client of runc can use MiniDock's engine. Errors exit 1 with one line on stderr.
/// </summary>
internal static class RuntimeCli
{
    /// <summary>Options that take a value, so that the command's own args can be told apart from flags.</summary>
    private static readonly HashSet<string> ValueOptions =
    [
        "--root", "--log", "--log-format", "--criu", "--rootless", "--process", "-p", "--env", "-e", "--cwd", "--user", "-u",
        "--additional-gids", "-g", "--pid-file", "--console-socket", "--cap", "-c", "--preserve-fds", "--apparmor",
        "--process-label", "--cgroup", "--format", "-f", "--bundle", "-b", "--interval",
    ];

    private const string Description = "minidock-runtime: MiniDock's OCI runtime, with runc's command line";

    public static int Run(string[] args)
    {
        var g = new GlobalOptions();
        // RootCommand's constructor looks up its help and version texts through a ResourceManager,
        // whose reflection-based binder costs ~1 ms on every call (measured with perf). Container
        // managers call us once per lifecycle step, so the full root is built only when help is asked.
        var wantsHelp = args.Length == 0 || args.Any(a => a is "-h" or "--help" or "-?" or "--version" or "help");
        var root = wantsHelp ? new RootCommand(Description) : new Command("minidock-runtime", Description);
        foreach (var o in g.All)
        {
            root.Options.Add(o);
        }

        foreach (var cmd in new[]
                 {
                     CreateCommand.Build(g), StartCommand.Build(g), RunCommand.Build(g), StateCommand.Build(g),
                     ListCommand.Build(g), KillCommand.Build(g), DeleteCommand.Build(g), ExecCommand.Build(g),
                     PsCommand.Build(g), PauseCommand.Build(g, pause: true), PauseCommand.Build(g, pause: false),
                     SpecCommand.Build(g), FeaturesCommand.Build(g), UpdateCommand.Build(g), EventsCommand.Build(g),
                 })
        {
            root.Subcommands.Add(cmd);
        }

        return root.Parse(SplitCommandArgs(args)).Invoke();
    }

    /// <summary>
    /// runc stops reading flags after <c>exec ID</c> and <c>ps ID</c>: what follows is the command
    /// (<c>exec ID sh -c …</c>). Insert "--" there so the parser sees it the same way.
    /// </summary>
    internal static string[] SplitCommandArgs(string[] args)
    {
        var cmdIndex = -1;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith('-'))
            {
                if (ValueOptions.Contains(args[i]))
                {
                    i++;
                }

                continue;
            }

            cmdIndex = i;
            break;
        }

        if (cmdIndex < 0 || args[cmdIndex] is not ("exec" or "ps"))
        {
            return args;
        }

        for (var i = cmdIndex + 1; i < args.Length; i++)
        {
            if (args[i] == "--")
            {
                return args;
            }

            if (args[i].StartsWith('-'))
            {
                if (ValueOptions.Contains(args[i]))
                {
                    i++;
                }

                continue;
            }

            // args[i] is the container id: everything after it belongs to the command.
            if (i + 1 < args.Length)
            {
                return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
            }

            return args;
        }

        return args;
    }

    /// <summary>Runs a command body, turning a user-facing failure into runc's one-line error and exit 1.</summary>
    public static int Guard(GlobalOptions g, ParseResult p, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is RuntimeError or SysException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            ErrorLog.Write(p.GetValue(g.Log), p.GetValue(g.LogFormat) ?? "text", e.Message);
            return 1;
        }
    }
}
