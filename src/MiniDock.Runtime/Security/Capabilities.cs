using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Security;

/// <summary>
/// Capability names (capabilities(7)) to bits, and the five sets of process.capabilities.
/// An unknown name MUST be an error (config.md#linux-process); runc and crun accept it silently.
/// </summary>
public static class Capabilities
{
    public static readonly string[] Names =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    /// <summary>The parsed sets, as bit masks (bit N = capability N).</summary>
    public readonly record struct Sets(ulong Bounding, ulong Effective, ulong Inheritable, ulong Permitted, ulong Ambient);

    public static int Number(string name)
    {
        var n = name.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? name.ToUpperInvariant() : "CAP_" + name.ToUpperInvariant();
        var i = Array.IndexOf(Names, n);
        return i >= 0 ? i : throw new RuntimeError($"unknown capability {name}");
    }

    public static ulong Mask(IEnumerable<string>? names, int lastCap)
    {
        ulong m = 0;
        foreach (var name in names ?? [])
        {
            var n = Number(name);
            if (n <= lastCap)
            {
                m |= 1UL << n;
            }
        }

        return m;
    }

    /// <summary>
    /// Fails <c>create</c> when the process would need a capability that the runtime itself cannot grant: one
    /// missing from our own bounding set (a host or a supervisor that dropped it, e.g. CAP_SYS_RESOURCE in some
    /// sandboxes) can never be raised again, so capset in the init would fail at <c>start</c>, after the
    /// caller stopped listening. Bounding itself may name more: the kernel only lets it shrink, as runc does.
    /// </summary>
    public static void RequireHeld(Sets s, ulong held)
    {
        var missing = (s.Effective | s.Permitted | s.Inheritable | s.Ambient) & ~held;
        if (missing != 0)
        {
            var names = Enumerable.Range(0, 64).Where(c => (missing & (1UL << c)) != 0).Select(c => c < Names.Length ? Names[c] : $"capability {c}");
            throw new RuntimeError($"process.capabilities: {string.Join(", ", names)} not held by the runtime (missing from its bounding set), so the container cannot have it");
        }
    }

    /// <summary>Parses every set, so that an unknown name fails <c>create</c> rather than the exec.</summary>
    public static Sets Parse(CapabilitiesSpec? c, int lastCap) => c is null
        ? new Sets(0, 0, 0, 0, 0)
        : new Sets(Mask(c.Bounding, lastCap), Mask(c.Effective, lastCap), Mask(c.Inheritable, lastCap), Mask(c.Permitted, lastCap), Mask(c.Ambient, lastCap));

    /// <summary>
    /// Applies the sets to the calling thread around a uid change: bounding first (it needs
    /// CAP_SETPCAP), keep-caps across setresuid, then capset and the ambient raise.
    /// </summary>
    public static void ApplyAroundUserSwitch(Sets s, int lastCap, Action switchUser)
    {
        Caps.LimitBounding(s.Bounding, lastCap);
        Sys.Prctl(Prctl.SetKeepCaps, 1);
        switchUser();
        Sys.Prctl(Prctl.SetKeepCaps, 0);
        Caps.Set(s.Effective, s.Permitted, s.Inheritable);
        Caps.SetAmbient(s.Ambient & s.Permitted & s.Inheritable, lastCap);
    }
}
