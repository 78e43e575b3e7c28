using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--ulimit name=soft[:hard]</c> as Docker parses it (go-units ParseUlimit,
/// https://github.com/docker/go-units/blob/master/ulimit.go); each becomes a process.rlimits entry
/// (https://github.com/opencontainers/runtime-spec/blob/main/config.md#posix-process).
/// </summary>
public static class Ulimit
{
    /// <summary>Docker's ulimit names → (OCI type, RLIMIT_* number on Linux).</summary>
    internal static readonly IReadOnlyDictionary<string, (string Type, int Resource)> Names = new Dictionary<string, (string, int)>
    {
        ["core"] = ("RLIMIT_CORE", 4), ["cpu"] = ("RLIMIT_CPU", 0), ["data"] = ("RLIMIT_DATA", 2),
        ["fsize"] = ("RLIMIT_FSIZE", 1), ["locks"] = ("RLIMIT_LOCKS", 10), ["memlock"] = ("RLIMIT_MEMLOCK", 8),
        ["msgqueue"] = ("RLIMIT_MSGQUEUE", 12), ["nice"] = ("RLIMIT_NICE", 13), ["nofile"] = ("RLIMIT_NOFILE", 7),
        ["nproc"] = ("RLIMIT_NPROC", 6), ["rss"] = ("RLIMIT_RSS", 5), ["rtprio"] = ("RLIMIT_RTPRIO", 14),
        ["rttime"] = ("RLIMIT_RTTIME", 15), ["sigpending"] = ("RLIMIT_SIGPENDING", 11), ["stack"] = ("RLIMIT_STACK", 3),
    };

    /// <summary>RLIM_INFINITY: what <c>-1</c> and <c>unlimited</c> mean.</summary>
    public const ulong Unlimited = ulong.MaxValue;

    /// <summary>
    /// <c>nofile=1024:2048</c> → (nofile, 1024, 2048); a soft limit alone sets both. <c>-1</c> or <c>unlimited</c>
    /// is RLIM_INFINITY. A soft limit above the hard one is an error, as in Docker.
    /// </summary>
    public static (string Name, ulong Soft, ulong Hard) Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq < 0)
        {
            throw new ContainerException($"invalid ulimit argument: {text}");
        }

        var name = text[..eq];
        if (!Names.ContainsKey(name))
        {
            throw new ContainerException($"invalid ulimit type: {name}");
        }

        var values = text[(eq + 1)..].Split(':');
        if (values.Length > 2)
        {
            throw new ContainerException($"too many limit value arguments - {text[(eq + 1)..]}, can only have up to two, `soft[:hard]`");
        }

        var soft = Value(values[0], text);
        var hard = values.Length == 2 ? Value(values[1], text) : soft;
        if (soft > hard)
        {
            throw new ContainerException($"ulimit soft limit must be less than or equal to hard limit: {Show(soft)} > {Show(hard)}");
        }

        return (name, soft, hard);
    }

    private static ulong Value(string v, string text)
    {
        if (v is "-1" or "unlimited")
        {
            return Unlimited;
        }

        return ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= long.MaxValue
            ? n
            : throw new ContainerException($"invalid ulimit argument: {text}: {(v.Length == 0 ? "empty limit" : $"invalid limit {v}")}");
    }

    private static string Show(ulong v) => v == Unlimited ? "-1 (unlimited)" : v.ToString(CultureInfo.InvariantCulture);
}
