using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Security;

/// <summary>process.rlimits: soft and hard set exactly; an unknown or duplicated type is an error (config.md#posix-process).</summary>
public static class Rlimits
{
    private static readonly Dictionary<string, int> Numbers = new()
    {
        ["RLIMIT_CPU"] = 0, ["RLIMIT_FSIZE"] = 1, ["RLIMIT_DATA"] = 2, ["RLIMIT_STACK"] = 3, ["RLIMIT_CORE"] = 4,
        ["RLIMIT_RSS"] = 5, ["RLIMIT_NPROC"] = 6, ["RLIMIT_NOFILE"] = 7, ["RLIMIT_MEMLOCK"] = 8, ["RLIMIT_AS"] = 9,
        ["RLIMIT_LOCKS"] = 10, ["RLIMIT_SIGPENDING"] = 11, ["RLIMIT_MSGQUEUE"] = 12, ["RLIMIT_NICE"] = 13,
        ["RLIMIT_RTPRIO"] = 14, ["RLIMIT_RTTIME"] = 15,
    };

    public static IReadOnlyList<(int Resource, ulong Soft, ulong Hard)> Parse(IReadOnlyList<RlimitSpec>? limits)
    {
        var result = new List<(int, ulong, ulong)>();
        var seen = new HashSet<string>();
        foreach (var l in limits ?? [])
        {
            if (!Numbers.TryGetValue(l.Type, out var n))
            {
                throw new RuntimeError($"unknown rlimit type {l.Type}");
            }

            if (!seen.Add(l.Type))
            {
                throw new RuntimeError($"duplicate rlimit type {l.Type}");
            }

            if (l.Soft > l.Hard)
            {
                throw new RuntimeError($"rlimit {l.Type}: soft limit {l.Soft} exceeds hard limit {l.Hard}");
            }

            result.Add((n, l.Soft, l.Hard));
        }

        return result;
    }
}
