using System.Text.Json;
using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime;

/// <summary>
/// OCI hooks (config.md#posix-platform-hooks): each gets the container state on stdin, runs with its
/// own args and env, and is killed at its timeout. Order: prestart, createRuntime, createContainer,
/// startContainer, poststart, poststop. The hook's stdout goes to our stderr: stdout belongs to the
/// container (and to `state`/`list` output).
/// </summary>
public static class Hooks
{
    public static void RunAll(string kind, IReadOnlyList<HookSpec>? hooks, OciState state, Trace trace)
    {
        if (hooks is null || hooks.Count == 0)
        {
            return;
        }

        var json = StateJson.Write(state);
        foreach (var h in hooks)
        {
            Run(kind, h, json);
            trace.Step($"{kind} hook {h.Path} done");
        }
    }

    /// <summary>Runs every hook, each failure only a warning (poststart and poststop must not fail the operation, nor skip later hooks).</summary>
    public static void RunAllWarn(string kind, IReadOnlyList<HookSpec>? hooks, OciState state, Trace trace)
    {
        if (hooks is null || hooks.Count == 0)
        {
            return;
        }

        var json = StateJson.Write(state);
        foreach (var h in hooks)
        {
            try
            {
                Run(kind, h, json);
                trace.Step($"{kind} hook {h.Path} done");
            }
            catch (RuntimeError e)
            {
                Console.Error.WriteLine($"warning: {e.Message}");
            }
        }
    }

    public static void Run(string kind, HookSpec hook, byte[] stateJson)
    {
        if (!System.IO.Path.IsPathRooted(hook.Path))
        {
            throw new RuntimeError($"{kind} hook path {hook.Path} must be absolute");
        }

        var (rd, wr) = Sys.Pipe();
        int pid;
        try
        {
            pid = Spawn.Start(new SpawnRequest
            {
                Path = hook.Path,
                Args = hook.Args is { Count: > 0 } a ? a : [hook.Path],
                Env = hook.Env ?? [],
                Fds = [(0, rd), (1, 2), (2, 2)],
                CloseFrom = 3,
            });
        }
        catch (SysException e)
        {
            Sys.Close(rd);
            Sys.Close(wr);
            throw new RuntimeError($"{kind} hook {hook.Path}: {e.Message}");
        }

        Sys.Close(rd);
        try
        {
            Sys.WriteAll(wr, stateJson);
        }
        catch (SysException)
        {
            // A hook may exit without reading its stdin.
        }

        Sys.Close(wr);
        var status = Processes.WaitWithTimeout(pid, hook.Timeout is > 0 ? hook.Timeout.Value * 1000 : -1);
        if (status is null)
        {
            throw new RuntimeError($"{kind} hook {hook.Path} timed out (timeout {hook.Timeout} s)");
        }

        if (status != 0)
        {
            throw new RuntimeError($"{kind} hook {hook.Path} failed with exit status {Sys.ExitCode(status.Value)}");
        }
    }
}
