using System.Buffers.Binary;
using MiniDock.Native;
using MiniDock.Runtime.Security.Seccomp;

namespace MiniDock.Runtime.Tests.Security.Seccomp;

/// <summary>What the kernel hands a seccomp filter: struct seccomp_data (64 bytes).</summary>
public sealed record SeccompData(int Nr, uint Arch, ulong[] Args)
{
    public static SeccompData Native(int nr, params ulong[] args)
    {
        var a = new ulong[6];
        args.CopyTo(a, 0);
        return new SeccompData(nr, BpfCompiler.AuditArchX86_64, a);
    }

    public byte[] ToBytes()
    {
        var b = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(b, Nr);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), Arch);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), 0x7f00_1234_5678); // instruction_pointer
        for (var i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16 + (8 * i)), Args[i]);
        }

        return b;
    }
}

/// <summary>
/// A classic BPF interpreter for the instructions a seccomp filter may use, with the checks the
/// kernel applies before it accepts one (net/core/filter.c bpf_check_classic, kernel/seccomp.c
/// seccomp_check_filter): length 1..BPF_MAXINSNS, known opcodes only, aligned in-bounds loads of
/// seccomp_data, every jump inside the program, last instruction a ret.
/// </summary>
public static class BpfInterpreter
{
    private const ushort LdWAbs = 0x20;
    private const ushort AluAndK = 0x54;
    private const ushort Ja = 0x05;
    private const ushort JeqK = 0x15;
    private const ushort JgtK = 0x25;
    private const ushort JgeK = 0x35;
    private const ushort JsetK = 0x45;
    private const ushort RetK = 0x06;

    public static void Validate(SockFilter[] program)
    {
        if (program.Length is 0 or > 4096)
        {
            throw new InvalidOperationException($"bad length {program.Length}");
        }

        for (var pc = 0; pc < program.Length; pc++)
        {
            var (code, jt, jf, k) = program[pc];
            switch (code)
            {
                case LdWAbs:
                    if (k >= 64 || (k & 3) != 0)
                    {
                        throw new InvalidOperationException($"{pc}: load of seccomp_data+{k}");
                    }

                    break;
                case AluAndK:
                case RetK:
                    break;
                case Ja:
                    if ((long)pc + 1 + k >= program.Length)
                    {
                        throw new InvalidOperationException($"{pc}: ja +{k} leaves the program");
                    }

                    break;
                case JeqK or JgtK or JgeK or JsetK:
                    if (pc + 1 + jt >= program.Length || pc + 1 + jf >= program.Length)
                    {
                        throw new InvalidOperationException($"{pc}: jump +{jt}/+{jf} leaves the program");
                    }

                    break;
                default:
                    throw new InvalidOperationException($"{pc}: opcode 0x{code:x2} is not allowed");
            }
        }

        if (program[^1].Code != RetK)
        {
            throw new InvalidOperationException("the last instruction is not ret");
        }
    }

    /// <summary>Runs <paramref name="program"/> (validated first) and returns its SECCOMP_RET_* value.</summary>
    public static uint Run(SockFilter[] program, SeccompData data) => Run(program, data, out _);

    public static uint Run(SockFilter[] program, SeccompData data, out int executed)
    {
        Validate(program);
        var bytes = data.ToBytes();
        uint a = 0;
        executed = 0;
        for (var pc = 0; ; pc++)
        {
            executed++;
            var (code, jt, jf, k) = program[pc];
            switch (code)
            {
                case LdWAbs:
                    a = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)k));
                    break;
                case AluAndK:
                    a &= k;
                    break;
                case Ja:
                    pc += (int)k;
                    break;
                case JeqK:
                    pc += a == k ? jt : jf;
                    break;
                case JgtK:
                    pc += a > k ? jt : jf;
                    break;
                case JgeK:
                    pc += a >= k ? jt : jf;
                    break;
                case JsetK:
                    pc += (a & k) != 0 ? jt : jf;
                    break;
                case RetK:
                    return k;
                default:
                    throw new InvalidOperationException($"opcode 0x{code:x2}");
            }
        }
    }
}
