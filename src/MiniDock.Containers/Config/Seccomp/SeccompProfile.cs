namespace MiniDock.Containers.Config.Seccomp;

/// <summary>
/// A seccomp profile in Docker's format (https://docs.docker.com/engine/security/seccomp/, moby's
/// profiles/seccomp/seccomp.go): OCI's linux.seccomp plus what is decided per container when the profile is
/// applied (<see cref="ProfileResolver"/>): an <c>archMap</c> instead of a flat architecture list, and rules that
/// apply only with or without a capability, on some architectures, or from some kernel version on. An OCI
/// linux.seccomp object is a valid profile of this format (it just has no conditions).
/// </summary>
internal sealed class SeccompProfile
{
    /// <summary>What a call no rule matches gets (an SCMP_ACT_* name).</summary>
    public string DefaultAction { get; init; } = "";

    public uint? DefaultErrnoRet { get; init; }

    /// <summary>OCI's flat list; a profile has either this or <see cref="ArchMap"/>, never both.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>Native architecture → its sub-architectures; only the host's entry is used.</summary>
    public IReadOnlyList<ArchMapEntry> ArchMap { get; init; } = [];

    public IReadOnlyList<string> Flags { get; init; } = [];

    /// <summary>SCMP_ACT_NOTIFY's agent socket: refused (MiniDock runs no seccomp agents).</summary>
    public string? ListenerPath { get; init; }

    public string? ListenerMetadata { get; init; }

    public IReadOnlyList<ProfileSyscall> Syscalls { get; init; } = [];
}

/// <summary>One <c>archMap</c> entry: <c>architecture</c> and its <c>subArchitectures</c>.</summary>
internal sealed record ArchMapEntry(string Architecture, IReadOnlyList<string> SubArchitectures);

/// <summary>One rule: OCI's LinuxSyscall plus Docker's conditions.</summary>
internal sealed class ProfileSyscall
{
    /// <summary>The calls it applies to (Docker's older <c>name</c> is read into this too).</summary>
    public required IReadOnlyList<string> Names { get; init; }

    public required string Action { get; init; }

    public uint? ErrnoRet { get; init; }

    public IReadOnlyList<ProfileArg> Args { get; init; } = [];

    /// <summary>The rule applies only if all of these hold.</summary>
    public ProfileFilter? Includes { get; init; }

    /// <summary>The rule is dropped if any of these holds.</summary>
    public ProfileFilter? Excludes { get; init; }
}

/// <summary>An argument comparison (config-linux.md#seccomp: index, value, valueTwo, op).</summary>
internal sealed record ProfileArg(uint Index, ulong Value, ulong ValueTwo, string Op);

/// <summary>
/// A rule's condition (moby's seccomp.Filter): capabilities of the container's bounding set, Go-style
/// architecture names of the host (<c>amd64</c>, <c>arm64</c>, …), and a minimum kernel version.
/// </summary>
internal sealed class ProfileFilter
{
    public IReadOnlyList<string> Caps { get; init; } = [];

    public IReadOnlyList<string> Arches { get; init; } = [];

    public KernelVersion? MinKernel { get; init; }
}

/// <summary>A kernel version as Docker compares it: major and minor only ("5.15.0-91-generic" is 5.15).</summary>
internal readonly record struct KernelVersion(int Kernel, int Major) : IComparable<KernelVersion>
{
    public int CompareTo(KernelVersion other) => Kernel != other.Kernel ? Kernel.CompareTo(other.Kernel) : Major.CompareTo(other.Major);

    public static bool operator >=(KernelVersion a, KernelVersion b) => a.CompareTo(b) >= 0;

    public static bool operator <=(KernelVersion a, KernelVersion b) => a.CompareTo(b) <= 0;

    public static bool operator >(KernelVersion a, KernelVersion b) => a.CompareTo(b) > 0;

    public static bool operator <(KernelVersion a, KernelVersion b) => a.CompareTo(b) < 0;

    /// <summary>
    /// "&lt;kernel&gt;.&lt;major&gt;" as a profile's <c>minKernel</c> says it; a host release like "6.8.0-45-generic" or
    /// "6.1-rc5" with <paramref name="release"/> true. Null when it does not parse (or is 0.0, which Docker refuses).
    /// </summary>
    public static KernelVersion? Parse(string s, bool release = false)
    {
        var parts = s.Split('.', 3);
        if (parts.Length < 2 || (!release && parts.Length != 2))
        {
            return null;
        }

        var minor = parts[1];
        if (release)
        {
            var end = 0;
            while (end < minor.Length && char.IsAsciiDigit(minor[end]))
            {
                end++;
            }

            minor = minor[..end];
        }

        return byte.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k)
            && byte.TryParse(minor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var m)
            && (k, m) != (0, 0)
            ? new KernelVersion(k, m)
            : null;
    }

    public override string ToString() => $"{Kernel}.{Major}";
}
