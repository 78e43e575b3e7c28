using System.CommandLine;
using MiniDock.Cli.RuntimeCommands;

namespace MiniDock.Cli;

/// <summary>
/// The Docker-like CLI: image commands (pull, images, rmi, tag, image …, system df), <c>version</c>,
/// and <c>runtime</c> (the runc-compatible engine under this name too). Container commands arrive
/// with the run milestone.
/// </summary>
public static class UserCli
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "runtime")
        {
            return RuntimeCli.Run(args[1..]);
        }

        var root = new RootCommand("MiniDock: a small, fast container tool for local dev sandboxes");
        var version = new Command("version", "Show the MiniDock version");
        version.SetAction(_ =>
        {
            Console.WriteLine($"MiniDock {Version.Text}");
            Console.WriteLine("OCI runtime-spec 1.2.0 (runc-compatible as minidock-runtime)");
            return 0;
        });
        root.Subcommands.Add(version);
        root.Subcommands.Add(Commands.PullCommand.Build());
        root.Subcommands.Add(Commands.ImagesCommand.Build());
        root.Subcommands.Add(Commands.RmiCommand.Build());
        root.Subcommands.Add(Commands.TagCommand.Build());
        root.Subcommands.Add(Commands.ImageCommand.Build());
        root.Subcommands.Add(Commands.ImageCommand.System());
        root.Subcommands.Add(Commands.LoginCommand.Build());
        root.Subcommands.Add(Commands.LoginCommand.Logout());
        root.Subcommands.Add(new Command("runtime", "The runc-compatible OCI runtime (same as invoking bin/minidock-runtime)"));
        return root.Parse(args).Invoke();
    }
}

internal static class Version
{
    public const string Text = "0.1.0";
}
