using System.CommandLine;
using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary>runc's global flags. They may appear before or after the command (Recursive).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Root { get; } = new("--root") { Description = "root directory for container state (default /run/minidock/runtime, or $MINIDOCK_ROOT/run/runtime)", Recursive = true };

    public Option<string?> Log { get; } = new("--log") { Description = "also write errors to this file", Recursive = true };

    public Option<string> LogFormat { get; } = new("--log-format") { Description = "text or json", Recursive = true, DefaultValueFactory = _ => "text" };

    public Option<bool> Debug { get; } = new("--debug", "--trace") { Description = "print each engine step with its timing on stderr", Recursive = true };

    public Option<bool> SystemdCgroup { get; } = new("--systemd-cgroup") { Description = "accepted for compatibility; cgroupfs is always used", Recursive = true };

    public Option<string?> Criu { get; } = new("--criu") { Description = "accepted for compatibility; checkpointing is not supported", Recursive = true, Hidden = true };

    public Option<string?> Rootless { get; } = new("--rootless") { Description = "accepted for compatibility", Recursive = true, Hidden = true };

    public IEnumerable<Option> All => [Root, Log, LogFormat, Debug, SystemdCgroup, Criu, Rootless];

    public StateStore Store(ParseResult p) => new(p.GetValue(Root) ?? DefaultRoot());

    public Trace Trace(ParseResult p) => p.GetValue(Debug) ? new Trace(line => Console.Error.WriteLine(line)) : MiniDock.Runtime.Trace.Off;

    public static string DefaultRoot()
    {
        var env = Environment.GetEnvironmentVariable("MINIDOCK_ROOT");
        return string.IsNullOrEmpty(env) ? "/run/minidock/runtime" : Path.Combine(env, "run", "runtime");
    }
}
