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

        // run/create/exec: the container's command is split off before parsing (see ArgSplit).
        string[] command = [];
        if (args.Length > 0 && args[0] is "run" or "create" or "exec")
        {
            (args, command) = Commands.ArgSplit.Split(args, 1, args[0] == "exec" ? Commands.ExecCommand.ValueOptions : Commands.RunFlags.ValueOptions);
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
        root.Subcommands.Add(Commands.RunCommand.Build(command));
        root.Subcommands.Add(Commands.RunCommand.Build(command, create: true));
        root.Subcommands.Add(Commands.StartCommand.Build());
        root.Subcommands.Add(Commands.StopCommand.Build());
        root.Subcommands.Add(Commands.StopCommand.Build(restart: true));
        root.Subcommands.Add(Commands.KillCommand.Build());
        root.Subcommands.Add(Commands.WaitCommand.Build());
        root.Subcommands.Add(Commands.AttachCommand.Build());
        root.Subcommands.Add(Commands.RmCommand.Build());
        root.Subcommands.Add(Commands.PsCommand.Build());
        root.Subcommands.Add(Commands.LogsCommand.Build());
        root.Subcommands.Add(Commands.ExecCommand.Build(command));
        root.Subcommands.Add(Commands.InspectCommand.Build());
        root.Subcommands.Add(Commands.CpCommand.Build());
        root.Subcommands.Add(Commands.ContainerCommand.Build());
        root.Subcommands.Add(Commands.VolumeCommand.Build());
        root.Subcommands.Add(Commands.NetworkCommand.Build());
        root.Subcommands.Add(Commands.PortCommand.Build());
        root.Subcommands.Add(Commands.MountCommand.Build());
        root.Subcommands.Add(Commands.MountCommand.Build(unmount: true));
        root.Subcommands.Add(Commands.PauseCommand.Build());
        root.Subcommands.Add(Commands.PauseCommand.Build(pause: false));
        root.Subcommands.Add(Commands.UpdateCommand.Build());
        root.Subcommands.Add(Commands.StatsCommand.Build());
        root.Subcommands.Add(Commands.InfoCommand.Build());
        root.Subcommands.Add(new Command("runtime", "The runc-compatible OCI runtime (same as invoking bin/minidock-runtime)"));
        return root.Parse(args).Invoke();
    }
}

internal static class Version
{
    public const string Text = "0.1.0";
}
