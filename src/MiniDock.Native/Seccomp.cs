using System.Runtime.InteropServices;

namespace MiniDock.Native;

/// <summary>
/// One classic BPF instruction, laid out exactly as the kernel's <c>struct sock_filter</c>
/// (include/uapi/linux/filter.h): u16 code, u8 jt, u8 jf, u32 k, 8 bytes, no padding. The
/// installer hands an array of these to the kernel as is, so the layout is the contract.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct SockFilter(ushort Code, byte Jt, byte Jf, uint K)
{
    public override string ToString() => $"{{ 0x{Code:x2}, {Jt}, {Jf}, 0x{K:x8} }}";
}

/// <summary>
/// seccomp(2) with SECCOMP_SET_MODE_FILTER. The raw system call is used rather than
/// prctl(PR_SET_SECCOMP) because only seccomp(2) takes filter flags (TSYNC, LOG, SPEC_ALLOW).
/// </summary>
public static unsafe class Seccomp
{
    /// <summary>__NR_seccomp on x86_64 (since Linux 3.17).</summary>
    public const long SysSeccomp = 317;

    public const uint SetModeFilter = 1;

    public const uint FlagTsync = 1;
    public const uint FlagLog = 2;
    public const uint FlagSpecAllow = 4;
    public const uint FlagNewListener = 8;
    public const uint FlagTsyncEsrch = 16;
    public const uint FlagWaitKillableRecv = 32;

    /// <summary>BPF_MAXINSNS: the kernel refuses longer classic programs with EINVAL.</summary>
    public const int MaxInstructions = 4096;

    /// <summary>
    /// Attaches <paramref name="program"/> to the calling thread (and, with TSYNC, to every thread
    /// of the process). The kernel requires no_new_privs or CAP_SYS_ADMIN in the caller's user
    /// namespace, else EACCES. Filters stack and cannot be removed; children inherit them.
    /// </summary>
    /// <exception cref="SysException">The kernel refused the filter (errno), or TSYNC could not synchronize a thread.</exception>
    public static void InstallFilter(ReadOnlySpan<SockFilter> program, uint flags)
    {
        if (program.IsEmpty || program.Length > MaxInstructions)
        {
            throw new SysException($"seccomp: a filter of {program.Length} instructions", 22 /* EINVAL */);
        }

        fixed (SockFilter* p = program)
        {
            var prog = new SockFprog { Len = (ushort)program.Length, Filter = p };
            var rc = Libc.syscall(SysSeccomp, (nint)SetModeFilter, (nint)flags, (nint)(&prog), 0, 0, 0);
            if (rc < 0)
            {
                throw new SysException("seccomp(SECCOMP_SET_MODE_FILTER)", Sys.Errno);
            }

            // seccomp(2): with TSYNC (and without TSYNC_ESRCH) a failure to synchronize is reported
            // as the positive id of the first thread that could not be synchronized.
            if (rc > 0 && (flags & FlagTsync) != 0)
            {
                throw new SysException($"seccomp(SECCOMP_FILTER_FLAG_TSYNC): thread {rc} could not be synchronized", 16 /* EBUSY */);
            }
        }
    }

    /// <summary><c>struct sock_fprog</c>: unsigned short len, then (8-aligned) the instruction pointer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SockFprog
    {
        public ushort Len;
        public SockFilter* Filter;
    }
}
