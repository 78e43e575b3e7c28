using System.Buffers.Binary;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>
/// Compiles a device allowlist (linux.resources.devices,
/// https://github.com/opencontainers/runtime-spec/blob/main/config-linux.md#allowed-device-list) into the eBPF program
/// that cgroup v2 consults instead of v1's devices.allow/deny: a <c>BPF_PROG_TYPE_CGROUP_DEVICE</c> program gets a
/// <c>struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }</c>, access_type being
/// <c>(access &lt;&lt; 16) | type</c>, and returns 1 to allow, 0 to deny (include/uapi/linux/bpf.h; instruction set in
/// Documentation/bpf/standardization/instruction-set.rst). Pure: no syscalls, so the output can be run by a test
/// interpreter.
/// </summary>
/// <remarks>
/// Semantics, as v1 and runc (libcontainer/cgroups/devices/devicefilter.go): nothing matches means deny; rules are
/// read in order and the last one that matches wins, so the program tests them in reverse and returns on the first
/// hit. Unlike runc, which first reduces the rules with its v1 emulator, each access bit (m, r, w) is decided on its
/// own: an <c>open(O_RDWR)</c> asks for r and w together and is allowed only if both are, and a rule granting or
/// denying "w" says nothing about "r". That is what v1's exception list amounts to, and it needs no subset/overlap
/// test in the program: the section for one bit simply leaves out the rules that do not name it. A rule of type
/// <c>a</c> matches every device whatever its major/minor (as "a" in devices.allow), and a null or negative
/// major/minor is a wildcard. Everything after an unconditional rule is left out, since the verifier refuses
/// unreachable instructions.
/// </remarks>
public static class DeviceFilter
{
    /// <summary>BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR: the low 16 bits of access_type.</summary>
    public const int DevBlock = 1, DevChar = 2;

    /// <summary>BPF_DEVCG_ACC_MKNOD, _READ, _WRITE: the high 16 bits of access_type.</summary>
    public const int AccMknod = 1, AccRead = 2, AccWrite = 4;

    /// <summary>The license string BPF_PROG_LOAD wants; device programs call no GPL-only helper.</summary>
    public const string License = "Apache";

    // Opcodes (class | op | source) this generator emits; a test interpreter implements exactly these.
    public const byte LdxMemW = 0x61;   // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
    public const byte And32Imm = 0x54;  // BPF_ALU | BPF_AND | BPF_K: (u32)dst &= imm
    public const byte Rsh32Imm = 0x74;  // BPF_ALU | BPF_RSH | BPF_K: (u32)dst >>= imm
    public const byte Mov32Imm = 0xb4;  // BPF_ALU | BPF_MOV | BPF_K: dst = (u32)imm
    public const byte Ja = 0x05;        // BPF_JMP | BPF_JA: pc += off
    public const byte JneImm = 0x55;    // BPF_JMP | BPF_JNE | BPF_K: if dst != imm, pc += off
    public const byte JsetImm = 0x45;   // BPF_JMP | BPF_JSET | BPF_K: if dst &amp; imm, pc += off
    public const byte Exit = 0x95;      // BPF_JMP | BPF_EXIT: return r0

    // Registers: r1 is the ctx on entry; r2..r5 hold its decoded fields; r0 is the answer.
    private const byte R0 = 0, R1 = 1, RType = 2, RAccess = 3, RMajor = 4, RMinor = 5;

    /// <summary>One rule reduced to what the program compares: type 0 is any, major/minor null is any.</summary>
    private readonly record struct Rule(bool Allow, int Type, uint? Major, uint? Minor, int Access);

    /// <summary>The program, as the 8-byte instructions BPF_PROG_LOAD takes.</summary>
    public static byte[] Build(IEnumerable<DeviceCgroupRule> rules)
    {
        var parsed = rules.Select(Parse).ToList();
        var asm = new Assembler();
        asm.Emit(LdxMemW, RType, R1, 0, 0);
        asm.Emit(And32Imm, RType, 0, 0, 0xffff);
        asm.Emit(LdxMemW, RAccess, R1, 0, 0);
        asm.Emit(Rsh32Imm, RAccess, 0, 0, 16);
        asm.Emit(LdxMemW, RMajor, R1, 4, 0);
        asm.Emit(LdxMemW, RMinor, R1, 8, 0);

        foreach (var bit in new[] { AccMknod, AccRead, AccWrite })
        {
            var next = asm.NewLabel();
            asm.Emit(JsetImm, RAccess, 0, 1, bit); // asked for this bit: decide it below
            asm.Jump(Ja, 0, 0, next);              // not asked: nothing to decide

            var decided = false;
            for (var i = parsed.Count - 1; i >= 0 && !decided; i--)
            {
                var r = parsed[i];
                if ((r.Access & bit) == 0)
                {
                    continue;
                }

                var skip = asm.NewLabel();
                var conditional = false;
                if (r.Type != 0)
                {
                    asm.Jump(JneImm, RType, r.Type, skip);
                    conditional = true;
                    if (r.Major is { } major)
                    {
                        asm.Jump(JneImm, RMajor, (int)major, skip);
                    }

                    if (r.Minor is { } minor)
                    {
                        asm.Jump(JneImm, RMinor, (int)minor, skip);
                    }
                }

                if (r.Allow)
                {
                    asm.Jump(Ja, 0, 0, next); // this bit is allowed; the next bit decides on its own
                }
                else
                {
                    asm.Emit(Mov32Imm, R0, 0, 0, 0);
                    asm.Emit(Exit, 0, 0, 0, 0);
                }

                asm.Mark(skip);
                decided = !conditional;
            }

            if (!decided)
            {
                asm.Emit(Mov32Imm, R0, 0, 0, 0); // no rule names this device for this bit: deny
                asm.Emit(Exit, 0, 0, 0, 0);
            }

            asm.Mark(next);
        }

        asm.Emit(Mov32Imm, R0, 0, 0, 1); // every bit asked for was allowed
        asm.Emit(Exit, 0, 0, 0, 0);
        return asm.Encode();
    }

    private static Rule Parse(DeviceCgroupRule r)
    {
        var type = r.Type switch
        {
            null or "" or "a" => 0,
            "b" => DevBlock,
            "c" => DevChar,
            _ => throw new RuntimeError($"invalid device rule type \"{r.Type}\" (want a, b or c)"),
        };
        var access = 0;
        foreach (var ch in string.IsNullOrEmpty(r.Access) ? "rwm" : r.Access)
        {
            access |= ch switch
            {
                'r' => AccRead,
                'w' => AccWrite,
                'm' => AccMknod,
                _ => throw new RuntimeError($"invalid device rule access \"{r.Access}\" (want a subset of rwm)"),
            };
        }

        return new Rule(r.Allow, type, Number(r.Major, "major"), Number(r.Minor, "minor"), access);
    }

    /// <summary>Null or negative: any. JNE compares with a sign-extended s32 immediate, so numbers stop at 2^31-1.</summary>
    private static uint? Number(long? n, string what) => n switch
    {
        null or < 0 => null,
        > int.MaxValue => throw new RuntimeError($"invalid device rule {what} {n}"),
        _ => (uint)n.Value,
    };

    /// <summary>Forward jumps to labels, patched once the targets are known.</summary>
    private sealed class Assembler
    {
        private readonly List<(byte Code, byte Dst, byte Src, short Off, int Imm)> _insns = [];
        private readonly List<int> _labels = [];
        private readonly List<(int Insn, int Label)> _fixups = [];

        public void Emit(byte code, byte dst, byte src, short off, int imm) => _insns.Add((code, dst, src, off, imm));

        public int NewLabel()
        {
            _labels.Add(-1);
            return _labels.Count - 1;
        }

        public void Mark(int label) => _labels[label] = _insns.Count;

        public void Jump(byte code, byte dst, int imm, int label)
        {
            _fixups.Add((_insns.Count, label));
            Emit(code, dst, 0, 0, imm);
        }

        public byte[] Encode()
        {
            foreach (var (at, label) in _fixups)
            {
                var off = _labels[label] - (at + 1);
                if (_labels[label] < 0 || off is < 0 or > short.MaxValue)
                {
                    throw new RuntimeError($"device filter: bad jump from {at} to label {label}");
                }

                _insns[at] = _insns[at] with { Off = (short)off };
            }

            var bytes = new byte[_insns.Count * 8];
            for (var i = 0; i < _insns.Count; i++)
            {
                var (code, dst, src, off, imm) = _insns[i];
                var s = bytes.AsSpan(i * 8, 8);
                s[0] = code;
                s[1] = (byte)((dst & 0xf) | (src << 4)); // dst_reg:4 in the low nibble on little-endian
                BinaryPrimitives.WriteInt16LittleEndian(s[2..], off);
                BinaryPrimitives.WriteInt32LittleEndian(s[4..], imm);
            }

            return bytes;
        }
    }
}
