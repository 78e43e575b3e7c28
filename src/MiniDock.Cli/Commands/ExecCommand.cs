using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Config;
using MiniDock.Containers.Store;
using MiniDock.Native;
using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] CONTAINER COMMAND...</c>: a new process in a running
/// container, starting from the container's own process (env, user, capabilities, rlimits) as Docker does.
/// Exit codes: the process's, 126/127 when it cannot be run, 125 for our own errors.
/// </summary>
internal static class ExecCommand
{
    public static readonly IReadOnlySet<string> ValueOptions = new HashSet<string>(StringComparer.Ordinal)
    {
        "-e", "--env", "-w", "--workdir", "-u", "--user", "--env-file",
    };

    public static Command Build(string[] command)
    {
        var name = new Argument<string>("container");
        var interactive = new Option<bool>("--interactive", "-i") { Description = "keep stdin open" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a pseudo-terminal" };
        var detach = new Option<bool>("--detach", "-d") { Description = "run in the background" };
        var env = new Option<string[]>("--env", "-e") { Description = "set environment variables" };
        var envFile = new Option<string[]>("--env-file") { Description = "read environment variables from a file" };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "working directory" };
        var user = new Option<string?>("--user", "-u") { Description = "name|uid[:group|gid]" };
        var privileged = new Option<bool>("--privileged") { Description = "give the command every capability" };
        var cmd = new Command("exec", "Run a command in a running container") { name, interactive, tty, detach, env, envFile, workdir, user, privileged };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            if (command.Length == 0)
            {
                throw new ContainerException("exec: no command given");
            }

            var svc = services.GetRequiredService<ContainerService>();
            var row = svc.Require(p.GetValue(name)!);
            ContainerStates.RequireRunning(row, svc.Refresh(row), "exec");
            var spec = SpecReader.Parse(File.ReadAllBytes(Path.Combine(svc.Paths.Dir(row.Id), "config.json")));
            var baseProcess = spec.Process ?? new ProcessSpec();
            var env2 = new List<string>(baseProcess.Env ?? []);
            foreach (var file in p.GetValue(envFile) ?? [])
            {
                Merge(env2, EnvFile.Read(file, null));
            }

            foreach (var e in p.GetValue(env) ?? [])
            {
                if (e.Contains('='))
                {
                    Merge(env2, [e]);
                }
                else if (Environment.GetEnvironmentVariable(e) is { } v)
                {
                    Merge(env2, [$"{e}={v}"]);
                }
            }

            var userSpec = baseProcess.User;
            if (p.GetValue(user) is { } u)
            {
                var rootfs = svc.SnapshotterOf(row).RootfsPath(svc.Paths.Dir(row.Id));
                var resolved = UserLookup.Resolve(rootfs, u);
                userSpec = new UserSpec { Uid = resolved.Uid, Gid = resolved.Gid, AdditionalGids = [.. resolved.AdditionalGids], Umask = baseProcess.User?.Umask };
            }

            var t = p.GetValue(tty);
            var process = new ProcessSpec
            {
                Args = [.. command],
                Env = env2,
                Cwd = p.GetValue(workdir) ?? baseProcess.Cwd,
                User = userSpec,
                Terminal = t,
                Capabilities = p.GetValue(privileged) ? CapabilityFlags.Privileged(baseProcess.Capabilities) : baseProcess.Capabilities,
                Rlimits = baseProcess.Rlimits,
                NoNewPrivileges = baseProcess.NoNewPrivileges,
                ConsoleSize = t && Pty.TryGetSize(0, out var rows, out var cols) ? new ConsoleSize { Height = rows, Width = cols } : null,
            };
            var d = p.GetValue(detach);
            var nul = d || !p.GetValue(interactive) ? Sys.Open("/dev/null", OpenFlags.RdWr) : -1;
            try
            {
                return Exec.Run(svc.Runtime, new ExecOptions
                {
                    Id = row.Id,
                    Process = process,
                    Detach = d,
                    Stdio = d ? [nul, nul, nul] : nul >= 0 ? [nul, 1, 2] : null,
                }, Trace.Off);
            }
            catch (RuntimeError e)
            {
                throw new ContainerException(e.Message, ContainerService.ExitCodeOf(e));
            }
            finally
            {
                Sys.Close(nul);
            }
        }));
        return cmd;
    }

    private static void Merge(List<string> env, IEnumerable<string> add)
    {
        foreach (var kv in add)
        {
            var key = kv.Split('=', 2)[0];
            var i = env.FindIndex(x => x.Split('=', 2)[0] == key);
            if (i >= 0)
            {
                env[i] = kv;
            }
            else
            {
                env.Add(kv);
            }
        }
    }
}
