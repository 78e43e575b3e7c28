using MiniDock.Native;
using MiniDock.Runtime.Spec;
using NativeSeccomp = MiniDock.Native.Seccomp;

namespace MiniDock.Runtime.Security.Seccomp;

/// <summary>Compiles <c>linux.seccomp</c> and attaches it to the calling thread.</summary>
public static class SeccompFilter
{
    /// <summary>
    /// Compiles <paramref name="spec"/> (<see cref="BpfCompiler.Compile"/>) and installs it with
    /// seccomp(SECCOMP_SET_MODE_FILTER) on the calling thread only, unless the spec's flags ask for
    /// SECCOMP_FILTER_FLAG_TSYNC. Children inherit the filter and it survives execve, which is why
    /// the engine calls this last before exec: every syscall after it is subject to the profile.
    /// </summary>
    /// <remarks>
    /// The kernel demands no_new_privs on the thread or CAP_SYS_ADMIN in its user namespace
    /// (seccomp(2), EACCES otherwise); setting no_new_privs is the caller's decision
    /// (process.noNewPrivileges), not this method's.
    /// </remarks>
    /// <exception cref="RuntimeError">The spec is invalid, or the kernel refused the filter (with its errno text).</exception>
    public static void Install(SeccompSpec spec) => Install(Compile(spec));

    /// <summary>Compiles ahead of time, so that a bad profile fails <c>create</c> and the exec path only installs.</summary>
    public static CompiledFilter Compile(SeccompSpec spec) => new(BpfCompiler.Compile(spec), BpfCompiler.Flags(spec));

    public static void Install(CompiledFilter filter)
    {
        try
        {
            NativeSeccomp.InstallFilter(filter.Program, filter.Flags);
        }
        catch (SysException e)
        {
            var hint = e.Errno == 13 /* EACCES */ ? " (the thread needs no_new_privs or CAP_SYS_ADMIN)" : "";
            throw new RuntimeError($"seccomp: installing a filter of {filter.Program.Length} instructions (flags 0x{filter.Flags:x}): {e.Message}{hint}");
        }
    }
}

/// <summary>A compiled seccomp program and the flags to install it with.</summary>
public sealed record CompiledFilter(SockFilter[] Program, uint Flags)
{
    /// <summary>struct sock_filter as the kernel lays it out (u16 code, u8 jt, u8 jf, u32 k; little endian), to hand the program to the init.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[Program.Length * 8];
        for (var i = 0; i < Program.Length; i++)
        {
            var f = Program[i];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 8), f.Code);
            bytes[(i * 8) + 2] = f.Jt;
            bytes[(i * 8) + 3] = f.Jf;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((i * 8) + 4), f.K);
        }

        return bytes;
    }

    /// <summary>The flags (4 bytes, little endian) then <see cref="ToBytes"/>: what create keeps in the state dir for exec.</summary>
    public void Save(string path)
    {
        var program = ToBytes();
        var bytes = new byte[4 + program.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes, Flags);
        program.CopyTo(bytes, 4);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>What <see cref="Save"/> wrote; null when there is no such file (a container created before it existed).</summary>
    public static CompiledFilter? Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        return bytes.Length < 4 ? null : FromBytes(bytes[4..], System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes));
    }

    public static CompiledFilter FromBytes(byte[] bytes, uint flags)
    {
        if (bytes.Length % 8 != 0)
        {
            throw new RuntimeError($"seccomp: a compiled program of {bytes.Length} bytes is not whole instructions");
        }

        var program = new SockFilter[bytes.Length / 8];
        for (var i = 0; i < program.Length; i++)
        {
            var b = bytes.AsSpan(i * 8, 8);
            program[i] = new SockFilter(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(b), b[2], b[3], System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(b[4..]));
        }

        return new CompiledFilter(program, flags);
    }
}
