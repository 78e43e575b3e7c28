using System.Globalization;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>Parsed /proc/PID/status text and the capability names it encodes.</summary>
public sealed class ProcStatus
{
    /// <summary>Linux capability numbers (include/uapi/linux/capability.h), index = bit.</summary>
    public static readonly IReadOnlyList<string> CapabilityNames =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    private readonly Dictionary<string, string> _fields;

    public ProcStatus(string text)
    {
        _fields = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0].Trim())
            .ToDictionary(g => g.Key, g => g.First()[1].Trim());
    }

    public string this[string field] =>
        _fields.TryGetValue(field, out var v) ? v : throw new KeyNotFoundException($"no '{field}' in /proc status: {string.Join(", ", _fields.Keys)}");

    public ulong Hex(string field) => ulong.Parse(this[field], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>The capability names set in CapBnd/CapEff/CapPrm/CapInh/CapAmb, sorted.</summary>
    public IReadOnlyList<string> Caps(string field) => Names(Hex(field));

    public static IReadOnlyList<string> Names(ulong mask) =>
        Enumerable.Range(0, 64).Where(bit => (mask & (1UL << bit)) != 0)
            .Select(bit => bit < CapabilityNames.Count ? CapabilityNames[bit] : $"CAP_{bit}")
            .Order(StringComparer.Ordinal)
            .ToList();

    public static IReadOnlyList<string> Sorted(IEnumerable<string> names) => names.Order(StringComparer.Ordinal).ToList();
}
