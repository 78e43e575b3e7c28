using System.Runtime.InteropServices;
using System.Text;

namespace MiniDock.Native;

/// <summary>
/// The few bpf(2) commands a cgroup v2 device filter needs: load a <c>BPF_PROG_TYPE_CGROUP_DEVICE</c> program, attach
/// it to a cgroup directory, list what is attached there and detach it again. cgroup v2 has no devices.allow file:
/// the kernel asks the programs attached to a cgroup instead (Documentation/admin-guide/cgroup-v2.rst, "Device
/// controller"). Raw syscall: glibc has no wrapper. The <c>union bpf_attr</c> layouts are those of
/// include/uapi/linux/bpf.h (https://github.com/torvalds/linux/blob/master/include/uapi/linux/bpf.h); every attr is
/// passed zero-filled, which the kernel requires of the fields (and any tail) it does not read.
/// </summary>
public static unsafe class Bpf
{
    /// <summary>BPF_PROG_TYPE_CGROUP_DEVICE.</summary>
    public const uint ProgTypeCgroupDevice = 15;

    /// <summary>BPF_CGROUP_DEVICE, as both expected_attach_type and attach_type.</summary>
    public const uint AttachCgroupDevice = 6;

    /// <summary>BPF_F_ALLOW_MULTI: several programs on one cgroup, all of which must allow (as those of the parents).</summary>
    public const uint FAllowMulti = 2;

    private const int CmdProgLoad = 5;
    private const int CmdProgAttach = 8;
    private const int CmdProgDetach = 9;
    private const int CmdProgGetFdById = 13;
    private const int CmdProgQuery = 16;

    /// <summary>Bigger than every attr used here; zeroes past what this kernel knows are accepted.</summary>
    private const int AttrSize = 128;

    private const int LogSize = 64 * 1024;

    /// <summary>ENOSPC: BPF_PROG_QUERY's answer when prog_ids is too short for what is attached.</summary>
    private const int Enospc = 28;

    /// <summary>
    /// BPF_PROG_LOAD: verifies and loads <paramref name="insns"/> (8 bytes each) and returns the program's fd.
    /// On failure the exception carries the verifier's log, which is the only place that says why.
    /// </summary>
    public static int LoadProgram(uint progType, uint expectedAttachType, ReadOnlySpan<byte> insns, string license)
    {
        var attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        var log = new byte[LogSize];
        var lic = Encoding.ASCII.GetBytes(license + "\0");
        fixed (byte* code = insns, l = lic, logBuf = log)
        {
            *(uint*)(attr + 0) = progType;
            *(uint*)(attr + 4) = (uint)(insns.Length / 8);
            *(ulong*)(attr + 8) = (ulong)code;
            *(ulong*)(attr + 16) = (ulong)l;
            *(uint*)(attr + 24) = 1; // log_level: the verifier's reasons, written only when it rejects
            *(uint*)(attr + 28) = LogSize;
            *(ulong*)(attr + 32) = (ulong)logBuf;
            *(uint*)(attr + 68) = expectedAttachType;
            var fd = Libc.syscall(SysNo.Bpf, CmdProgLoad, (nint)attr, AttrSize, 0, 0, 0);
            if (fd < 0)
            {
                var errno = Sys.Errno;
                var n = Array.IndexOf(log, (byte)0);
                var text = Encoding.UTF8.GetString(log, 0, n < 0 ? log.Length : n).Trim();
                throw new SysException(text.Length > 0 ? $"bpf(BPF_PROG_LOAD) verifier: {text}" : "bpf(BPF_PROG_LOAD)", errno);
            }

            return (int)fd;
        }
    }

    /// <summary>BPF_PROG_ATTACH of <paramref name="progFd"/> to the cgroup directory open at <paramref name="cgroupFd"/>.</summary>
    public static void Attach(int cgroupFd, int progFd, uint attachType, uint flags)
    {
        var attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        *(uint*)(attr + 0) = (uint)cgroupFd;
        *(uint*)(attr + 4) = (uint)progFd;
        *(uint*)(attr + 8) = attachType;
        *(uint*)(attr + 12) = flags;
        Sys.Check(Libc.syscall(SysNo.Bpf, CmdProgAttach, (nint)attr, AttrSize, 0, 0, 0), "bpf(BPF_PROG_ATTACH)");
    }

    /// <summary>BPF_PROG_DETACH of one program (with BPF_F_ALLOW_MULTI the program must be named).</summary>
    public static void Detach(int cgroupFd, int progFd, uint attachType)
    {
        var attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        *(uint*)(attr + 0) = (uint)cgroupFd;
        *(uint*)(attr + 4) = (uint)progFd;
        *(uint*)(attr + 8) = attachType;
        Sys.Check(Libc.syscall(SysNo.Bpf, CmdProgDetach, (nint)attr, AttrSize, 0, 0, 0), "bpf(BPF_PROG_DETACH)");
    }

    /// <summary>
    /// BPF_PROG_QUERY: the ids of the programs attached to this cgroup itself (not those inherited from its parents,
    /// which BPF_F_QUERY_EFFECTIVE would add).
    /// </summary>
    public static uint[] QueryAttached(int cgroupFd, uint attachType)
    {
        var ids = new uint[64];
        var attr = stackalloc byte[AttrSize];
        while (true)
        {
            new Span<byte>(attr, AttrSize).Clear();
            fixed (uint* p = ids)
            {
                *(uint*)(attr + 0) = (uint)cgroupFd;
                *(uint*)(attr + 4) = attachType;
                *(ulong*)(attr + 16) = (ulong)p;
                *(uint*)(attr + 24) = (uint)ids.Length;
                var rc = Libc.syscall(SysNo.Bpf, CmdProgQuery, (nint)attr, AttrSize, 0, 0, 0);
                var count = *(uint*)(attr + 24); // the kernel writes back how many there are
                if (rc < 0 && Sys.Errno == Enospc && count > ids.Length)
                {
                    ids = new uint[count];
                    continue;
                }

                Sys.Check(rc, "bpf(BPF_PROG_QUERY)");
                return ids[..(int)Math.Min(count, (uint)ids.Length)];
            }
        }
    }

    /// <summary>BPF_PROG_GET_FD_BY_ID: an fd for a program known by id (what detaching one found by a query needs).</summary>
    public static int ProgramFdById(uint id)
    {
        var attr = stackalloc byte[AttrSize];
        new Span<byte>(attr, AttrSize).Clear();
        *(uint*)(attr + 0) = id;
        return (int)Sys.Check(Libc.syscall(SysNo.Bpf, CmdProgGetFdById, (nint)attr, AttrSize, 0, 0, 0), $"bpf(BPF_PROG_GET_FD_BY_ID {id})");
    }
}
