using System.Globalization;
using MiniDock.Native;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>runtime.md#kill, with runc's signal names (KILL, SIGKILL, 9) and --all.</summary>
public static class Kill
{
    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>The canonical name of signal <paramref name="n"/> (SIGTERM, SIGRTMIN+3); null for a number no signal has.</summary>
    public static string? SignalName(int n) => n switch
    {
        > 0 and < 32 => "SIG" + Names[n],
        34 => "SIGRTMIN",
        > 34 and <= 64 => "SIGRTMIN+" + (n - 34).ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    public static int ParseSignal(string s)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 64)
        {
            return n;
        }

        var name = s.ToUpperInvariant();
        name = name.StartsWith("SIG", StringComparison.Ordinal) ? name[3..] : name;
        var i = Array.IndexOf(Names, name);
        if (i > 0)
        {
            return i;
        }

        if (name.StartsWith("RTMIN", StringComparison.Ordinal))
        {
            return 34 + (name.Length > 5 ? int.Parse(name[5..], CultureInfo.InvariantCulture) : 0);
        }

        throw new RuntimeError($"unknown signal {s}");
    }

    public static void Run(StateStore store, string id, int signal, bool all, Trace trace)
    {
        var r = store.Load(id);
        var status = store.Status(r);
        if (!ContainerStateMachine.Allows(status, LifecycleOp.Kill))
        {
            // runc's ErrNotRunning text: containerd's shim matches "container not running" to treat a kill of a
            // finished task as done ("process already finished"), not as a failure.
            throw new RuntimeError($"container {id}: container not running");
        }

        if (all)
        {
            StateStore.Cgroup(r).Signal(signal);
        }
        else
        {
            Sys.Check(Libc.kill(r.Pid, signal), $"kill {r.Pid}");
        }

        if (signal == Consts.SigKill && status == ContainerStatus.Paused)
        {
            // cgroup v1: a frozen task does not die until thawed (runc thaws after SIGKILL too); v2 kills frozen tasks.
            StateStore.Cgroup(r).Thaw();
        }

        trace.Step($"signal {signal} sent to {(all ? "every process of" : "the init of")} {id}");
    }
}
