using System.Runtime.InteropServices;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Config.Seccomp;

/// <summary>
/// Turns a Docker-format profile into a container's OCI linux.seccomp, as moby's profiles/seccomp setupSeccomp does:
/// the host's <c>archMap</c> entry becomes <c>architectures</c>; <c>name</c> becomes <c>names</c>; a rule stays only if
/// each of its <c>includes</c> holds (the host's architecture is listed, every listed capability is in the container's
/// bounding set, the kernel is at least <c>minKernel</c>) and none of its <c>excludes</c> does (any one listed
/// capability or architecture, or the kernel from <c>minKernel</c> on, drops it).
/// </summary>
internal static class ProfileResolver
{
    /// <summary>The host's architecture in libseccomp's spelling, as profiles name it in includes/excludes.</summary>
    public static string HostArch { get; } = RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.X86 => "x86",
        Architecture.Arm => "arm",
        Architecture.Arm64 => "arm64",
        Architecture.Ppc64le => "ppc64le",
        Architecture.S390x => "s390x",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loongarch64",
        var a => a.ToString().ToLowerInvariant(),
    };

    /// <summary>The running kernel's version (uname's release), read once; null if it does not parse.</summary>
    public static KernelVersion? HostKernel => LazyKernel.Value;

    private static readonly Lazy<KernelVersion?> LazyKernel = new(() =>
    {
        try
        {
            return KernelVersion.Parse(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), release: true);
        }
        catch (IOException)
        {
            return null;
        }
    });

    /// <summary>
    /// linux.seccomp for <paramref name="profile"/> in a container whose bounding set is <paramref name="bounding"/>;
    /// null when the profile says nothing (no defaultAction and no rules: Docker then runs unconfined).
    /// </summary>
    public static SeccompSpec? Resolve(SeccompProfile profile, IEnumerable<string> bounding, string arch, KernelVersion? kernel)
    {
        var caps = new HashSet<string>(bounding, StringComparer.Ordinal);
        if (profile.DefaultAction.Length == 0 && profile.Syscalls.Count == 0)
        {
            return null;
        }

        var architectures = new List<string>(profile.Architectures);
        if (SeccompArch(arch) is { } native)
        {
            foreach (var entry in profile.ArchMap)
            {
                if (entry.Architecture == native)
                {
                    architectures.Add(entry.Architecture);
                    architectures.AddRange(entry.SubArchitectures);
                    break;
                }
            }
        }

        var syscalls = new List<SeccompSyscall>(profile.Syscalls.Count);
        foreach (var call in profile.Syscalls)
        {
            if (Excluded(call.Excludes, caps, arch, kernel) || !Included(call.Includes, caps, arch, kernel))
            {
                continue;
            }

            syscalls.Add(new SeccompSyscall
            {
                Names = [.. call.Names],
                Action = call.Action,
                ErrnoRet = call.ErrnoRet,
                Args = call.Args.Count == 0 ? null : [.. call.Args.Select(a => new SeccompArg { Index = a.Index, Value = a.Value, ValueTwo = a.ValueTwo, Op = a.Op })],
            });
        }

        return new SeccompSpec
        {
            DefaultAction = profile.DefaultAction,
            DefaultErrnoRet = profile.DefaultErrnoRet,
            Architectures = architectures,
            Flags = profile.Flags.Count == 0 ? null : [.. profile.Flags],
            ListenerPath = profile.ListenerPath,
            ListenerMetadata = profile.ListenerMetadata,
            Syscalls = syscalls,
        };
    }

    private static bool Excluded(ProfileFilter? f, HashSet<string> caps, string arch, KernelVersion? kernel)
        => f is not null
            && (f.Arches.Contains(arch)
                || f.Caps.Any(caps.Contains)
                || (f.MinKernel is { } min && KernelAtLeast(kernel, min)));

    private static bool Included(ProfileFilter? f, HashSet<string> caps, string arch, KernelVersion? kernel)
        => f is null
            || ((f.Arches.Count == 0 || f.Arches.Contains(arch))
                && f.Caps.All(caps.Contains)
                && (f.MinKernel is not { } min || KernelAtLeast(kernel, min)));

    /// <summary>Docker fails the container when it cannot tell the kernel's version and a rule needs it; so do we.</summary>
    private static bool KernelAtLeast(KernelVersion? kernel, KernelVersion min)
        => kernel is { } k ? k >= min : throw new ContainerException($"seccomp profile: a rule needs kernel {min} or newer, and this kernel's version is unknown");

    /// <summary>libseccomp's architecture name → its SCMP_ARCH_* (moby's nativeToSeccomp).</summary>
    private static string? SeccompArch(string arch) => arch switch
    {
        "x86" => "SCMP_ARCH_X86",
        "amd64" => "SCMP_ARCH_X86_64",
        "arm" => "SCMP_ARCH_ARM",
        "arm64" => "SCMP_ARCH_AARCH64",
        "loongarch64" or "loong64" => "SCMP_ARCH_LOONGARCH64",
        "mips64" => "SCMP_ARCH_MIPS64",
        "mips64n32" => "SCMP_ARCH_MIPS64N32",
        "mipsel64" => "SCMP_ARCH_MIPSEL64",
        "mips3l64n32" => "SCMP_ARCH_MIPSEL64N32",
        "mipsle" => "SCMP_ARCH_MIPSEL",
        "ppc" => "SCMP_ARCH_PPC",
        "ppc64" => "SCMP_ARCH_PPC64",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "s390" => "SCMP_ARCH_S390",
        "s390x" => "SCMP_ARCH_S390X",
        _ => null,
    };
}
