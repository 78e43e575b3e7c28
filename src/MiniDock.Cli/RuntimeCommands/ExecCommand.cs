using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary>
/// <c>exec [flags] ID COMMAND...</c> or <c>exec --process FILE ID</c>. Without --process the new
/// process starts from the container's own process spec (env, cwd, user, capabilities, rlimits),
/// with the flags layered on top, as runc does.
/// </summary>
internal static class ExecCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var command = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore };
        var process = new Option<string?>("--process", "-p") { Description = "a process.json (config.md#process) to run" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a pty (needs --console-socket)" };
        var env = new Option<string[]>("--env", "-e") { Description = "add KEY=VALUE to the environment", AllowMultipleArgumentsPerToken = false };
        var cwd = new Option<string?>("--cwd") { Description = "working directory in the container" };
        var user = new Option<string?>("--user", "-u") { Description = "UID[:GID]" };
        var groups = new Option<string[]>("--additional-gids", "-g") { Description = "additional group ids" };
        var detach = new Option<bool>("--detach", "-d") { Description = "do not wait for the process" };
        var pidFile = new Option<string?>("--pid-file") { Description = "write the process's host PID here" };
        var consoleSocket = new Option<string?>("--console-socket") { Description = "AF_UNIX socket that receives the pty master" };
        var caps = new Option<string[]>("--cap", "-c") { Description = "add a capability" };
        var nnp = new Option<bool>("--no-new-privs") { Description = "set no_new_privs" };
        var preserve = new Option<int>("--preserve-fds") { Description = "pass N extra fds (from 3)" };
        var ignored = new Option<string?>("--apparmor") { Hidden = true };
        var label = new Option<string?>("--process-label") { Hidden = true };
        var ignorePaused = new Option<bool>("--ignore-paused") { Hidden = true };
        var cmd = new Command("exec", "run a new process in a running container")
        {
            id, command, process, tty, env, cwd, user, groups, detach, pidFile, consoleSocket, caps, nnp, preserve, ignored, label, ignorePaused,
        };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            var store = g.Store(p);
            var cid = p.GetValue(id)!;
            ProcessSpec spec;
            if (p.GetValue(process) is { } file)
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
                spec = SpecReader.Process(doc.RootElement);
            }
            else
            {
                var args = p.GetValue(command) ?? [];
                if (args.Length == 0)
                {
                    throw new RuntimeError("exec: give a command, or --process FILE");
                }

                var baseSpec = store.Load(cid).Spec.Process ?? new ProcessSpec();
                spec = new ProcessSpec
                {
                    Args = [.. args],
                    Env = [.. baseSpec.Env ?? [], .. p.GetValue(env) ?? []],
                    Cwd = p.GetValue(cwd) ?? baseSpec.Cwd,
                    User = ParseUser(p.GetValue(user), p.GetValue(groups), baseSpec.User),
                    Capabilities = AddCaps(baseSpec.Capabilities, p.GetValue(caps) ?? []),
                    Rlimits = baseSpec.Rlimits,
                    NoNewPrivileges = baseSpec.NoNewPrivileges || p.GetValue(nnp),
                    Terminal = p.GetValue(tty),
                };
            }

            return Exec.Run(store, new ExecOptions
            {
                Id = cid,
                Process = spec,
                ConsoleSocket = p.GetValue(consoleSocket),
                PidFile = p.GetValue(pidFile),
                Detach = p.GetValue(detach),
                PreserveFds = p.GetValue(preserve),
            }, g.Trace(p));
        }));
        return cmd;
    }

    private static UserSpec ParseUser(string? user, string[]? groups, UserSpec fallback)
    {
        var u = new UserSpec { Uid = fallback.Uid, Gid = fallback.Gid, Umask = fallback.Umask, AdditionalGids = fallback.AdditionalGids };
        if (!string.IsNullOrEmpty(user))
        {
            var parts = user.Split(':');
            if (!uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ||
                (parts.Length > 1 && !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                throw new RuntimeError($"invalid --user {user}: want UID[:GID] (numbers)");
            }

            u.Uid = uid;
            u.Gid = parts.Length > 1 ? uint.Parse(parts[1], CultureInfo.InvariantCulture) : 0;
        }

        if (groups is { Length: > 0 })
        {
            u.AdditionalGids = groups.SelectMany(x => x.Split(',')).Select(x => uint.Parse(x, CultureInfo.InvariantCulture)).ToList();
        }

        return u;
    }

    private static CapabilitiesSpec? AddCaps(CapabilitiesSpec? c, string[] add)
    {
        if (add.Length == 0)
        {
            return c;
        }

        c ??= new CapabilitiesSpec();
        List<string> Plus(List<string>? l) => [.. (l ?? []).Union(add)];
        return new CapabilitiesSpec
        {
            Bounding = Plus(c.Bounding),
            Effective = Plus(c.Effective),
            Permitted = Plus(c.Permitted),
            Inheritable = c.Inheritable,
            Ambient = c.Ambient,
        };
    }
}
