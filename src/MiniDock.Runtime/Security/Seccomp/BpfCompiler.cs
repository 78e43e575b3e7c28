using MiniDock.Native;
using MiniDock.Runtime.Spec;
using NativeSeccomp = MiniDock.Native.Seccomp;

namespace MiniDock.Runtime.Security.Seccomp;

/// <summary>
/// Compiles OCI <c>linux.seccomp</c> (config-linux.md#seccomp) to a classic BPF program for
/// SECCOMP_SET_MODE_FILTER, without libseccomp: a NativeAOT binary should not need a C library
/// that may be missing from the host, and the subset a container profile uses is small.
/// </summary>
/// <remarks>
/// <para>Semantics follow runc on top of libseccomp, with first-match-wins made explicit:</para>
/// <list type="bullet">
/// <item>Actions: the SCMP_ACT_* names of seccomp.h. <c>errnoRet</c>/<c>defaultErrnoRet</c> apply to
/// SCMP_ACT_ERRNO and SCMP_ACT_TRACE only, default EPERM; on any other action the spec says the
/// runtime MUST fail, so it is an error. SCMP_ACT_NOTIFY (and <c>listenerPath</c>) is not supported:
/// it needs a listener fd handed to an agent, which this engine does not do.</item>
/// <item>Syscalls: each name is looked up in <see cref="SyscallTable"/>; an unknown name is skipped,
/// as runc skips names libseccomp cannot resolve. The rules of one syscall are tried in the order
/// they are listed and the first that matches decides; the conditions of one rule are ANDed. As in
/// runc, a rule naming the same argument index twice is split into one rule per condition (ORed),
/// the behaviour libseccomp had before it could AND two comparisons of one argument.</item>
/// <item>Comparisons are unsigned 64-bit, built from the two 32-bit halves of seccomp_data.args[i]
/// (little endian: low word at 16+8i, high word at 20+8i). SCMP_CMP_MASKED_EQ is
/// <c>(arg &amp; value) == valueTwo</c>.</item>
/// <item>Architectures: the engine runs on x86_64 and has only the x86_64 syscall table. The program
/// first checks seccomp_data.arch against AUDIT_ARCH_X86_64 and the x32 bit of the number. An i386
/// (SCMP_ARCH_X86) or x32 (SCMP_ARCH_X32) call is allowed through the filter only if that
/// architecture is listed, and even then no per-syscall rule can apply to it (its numbers differ):
/// it gets the default action when that denies (anything but ALLOW/LOG), else ERRNO(ENOSYS), so a
/// deny-list profile never lets a 32-bit call slip past its rules. A call from an architecture
/// that is not listed kills the process, as libseccomp's bad-architecture action does. Other
/// architecture names are accepted (they cannot occur on an x86_64 kernel); an empty list means
/// x86_64 only.</item>
/// </list>
/// <para>Layout: the arch checks, then a binary search over the sorted syscall numbers (leaves of at
/// most <see cref="LeafSize"/> numbers, tested linearly), each number's rules inline, ending in
/// <c>ret default</c>. Jumps use symbolic labels resolved at the end; a conditional jump that does
/// not fit in 8 bits is a <see cref="RuntimeError"/>, never a wrong program, and a body too long for
/// one is skipped with an unconditional <c>ja</c> (32-bit offset).</para>
/// </remarks>
public static class BpfCompiler
{
    // seccomp return values (include/uapi/linux/seccomp.h).
    public const uint RetKillProcess = 0x80000000;
    public const uint RetKillThread = 0x00000000;
    public const uint RetTrap = 0x00030000;
    public const uint RetErrno = 0x00050000;
    public const uint RetTrace = 0x7ff00000;
    public const uint RetLog = 0x7ffc0000;
    public const uint RetAllow = 0x7fff0000;

    /// <summary>SECCOMP_RET_DATA: the low 16 bits carry the errno of ERRNO and the message of TRACE.</summary>
    public const uint RetData = 0x0000ffff;

    // include/uapi/linux/audit.h: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE, and EM_386 | LE.
    public const uint AuditArchX86_64 = 0xC000003E;
    public const uint AuditArchI386 = 0x40000003;

    /// <summary>__X32_SYSCALL_BIT (arch/x86/include/uapi/asm/unistd.h): x32 calls arrive as AUDIT_ARCH_X86_64 with this bit set.</summary>
    public const uint X32SyscallBit = 0x40000000;

    public const int EPerm = 1;
    public const int ENoSys = 38;

    /// <summary>Syscall numbers per binary-search leaf; libseccomp's tree uses 4 too.</summary>
    public const int LeafSize = 4;

    // struct seccomp_data (include/uapi/linux/seccomp.h): int nr; u32 arch; u64 ip; u64 args[6].
    private const uint OffNr = 0;
    private const uint OffArch = 4;
    private const uint OffArgs = 16;

    // Classic BPF opcodes (include/uapi/linux/bpf_common.h).
    internal const ushort LdWAbs = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
    internal const ushort AluAndK = 0x04 | 0x50 | 0x00; // BPF_ALU | BPF_AND | BPF_K
    internal const ushort JmpJa = 0x05 | 0x00; // BPF_JMP | BPF_JA
    internal const ushort JmpJeqK = 0x05 | 0x10 | 0x00; // BPF_JMP | BPF_JEQ | BPF_K
    internal const ushort JmpJgtK = 0x05 | 0x20 | 0x00; // BPF_JMP | BPF_JGT | BPF_K
    internal const ushort JmpJgeK = 0x05 | 0x30 | 0x00; // BPF_JMP | BPF_JGE | BPF_K
    internal const ushort RetK = 0x06 | 0x00; // BPF_RET | BPF_K

    private static readonly HashSet<string> KnownArchitectures =
    [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
        "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
        "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ];

    private enum CmpOp
    {
        Ne,
        Lt,
        Le,
        Eq,
        Ge,
        Gt,
        MaskedEq,
    }

    private readonly record struct Condition(int Index, CmpOp Op, ulong Value, ulong ValueTwo);

    private sealed record Rule(uint Action, Condition[] Conditions);

    /// <summary>
    /// The program for <paramref name="spec"/>. Validates the whole spec (actions, operators,
    /// indexes, architectures, flags) even where the result would not use a part, so that a typo
    /// fails <c>create</c> rather than silently weakening the filter.
    /// </summary>
    /// <exception cref="RuntimeError">The spec is invalid or uses something unsupported, or the program would exceed BPF_MAXINSNS.</exception>
    public static SockFilter[] Compile(SeccompSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!string.IsNullOrEmpty(spec.ListenerPath))
        {
            throw new RuntimeError("seccomp: listenerPath is not supported (SCMP_ACT_NOTIFY agents are not implemented)");
        }

        if (!string.IsNullOrEmpty(spec.ListenerMetadata))
        {
            throw new RuntimeError("seccomp: listenerMetadata MUST NOT be set without listenerPath (config-linux.md#seccomp)");
        }

        var defaultAction = Action(spec.DefaultAction, spec.DefaultErrnoRet, "defaultAction");
        var (i386, x32) = Architectures(spec.Architectures);
        _ = Flags(spec);

        // What a call the rules cannot judge gets: the default if it denies, else ENOSYS.
        var foreign = IsPermissive(defaultAction) ? RetErrno | ENoSys : defaultAction;
        var groups = Group(spec.Syscalls, defaultAction);

        var asm = new Assembler();
        var native = new Label();
        asm.Load(OffArch);
        asm.Jump(JmpJeqK, AuditArchX86_64, native, null);
        if (i386)
        {
            var notI386 = new Label();
            asm.Jump(JmpJeqK, AuditArchI386, null, notI386);
            asm.Ret(foreign);
            asm.Mark(notI386);
        }

        asm.Ret(RetKillProcess);

        asm.Mark(native);
        asm.Load(OffNr);
        var dispatch = new Label();
        asm.Jump(JmpJgeK, X32SyscallBit, null, dispatch);

        // nr == -1 is not an x32 call: libseccomp lets it reach the rules (and the default), and
        // the kernel answers ENOSYS if it is allowed through.
        asm.Jump(JmpJeqK, uint.MaxValue, dispatch, null);
        asm.Ret(x32 ? foreign : RetKillProcess);

        asm.Mark(dispatch);
        EmitTree(asm, groups, 0, groups.Count, defaultAction);
        return asm.Link();
    }

    /// <summary>
    /// The SECCOMP_FILTER_FLAG_* bits for seccomp(2) that <paramref name="spec"/>.flags asks for.
    /// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (32) is accepted but not passed on: it only qualifies
    /// a notification listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which this engine never creates,
    /// and the kernel rejects it with EINVAL on its own (kernel/seccomp.c, seccomp_set_mode_filter).
    /// </summary>
    /// <exception cref="RuntimeError">An unknown flag.</exception>
    public static uint Flags(SeccompSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        uint flags = 0;
        foreach (var f in spec.Flags ?? [])
        {
            flags |= f switch
            {
                "SECCOMP_FILTER_FLAG_TSYNC" => NativeSeccomp.FlagTsync,
                "SECCOMP_FILTER_FLAG_LOG" => NativeSeccomp.FlagLog,
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => NativeSeccomp.FlagSpecAllow,
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" => 0u,
                _ => throw new RuntimeError($"seccomp: unknown flag {f}"),
            };
        }

        return flags;
    }

    /// <summary>The SECCOMP_RET_* value of an SCMP_ACT_* name, with its errno where it takes one.</summary>
    /// <exception cref="RuntimeError">An unknown or unsupported action, or an errno where none applies.</exception>
    public static uint Action(string name, uint? errnoRet, string where = "action")
    {
        switch (name)
        {
            case "SCMP_ACT_ERRNO":
                return RetErrno | Errno(errnoRet, name, where);
            case "SCMP_ACT_TRACE":
                return RetTrace | Errno(errnoRet, name, where);
            case "SCMP_ACT_NOTIFY":
                throw new RuntimeError($"seccomp: {where}: SCMP_ACT_NOTIFY is not supported (no seccomp agent support)");
        }

        var action = name switch
        {
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => RetKillThread,
            "SCMP_ACT_KILL_PROCESS" => RetKillProcess,
            "SCMP_ACT_TRAP" => RetTrap,
            "SCMP_ACT_ALLOW" => RetAllow,
            "SCMP_ACT_LOG" => RetLog,
            _ => throw new RuntimeError($"seccomp: {where}: unknown action \"{name}\""),
        };
        if (errnoRet is not null)
        {
            throw new RuntimeError($"seccomp: {where}: {name} takes no errno (errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, config-linux.md#seccomp)");
        }

        return action;
    }

    private static uint Errno(uint? errnoRet, string name, string where)
    {
        var errno = errnoRet ?? EPerm;
        return errno <= RetData
            ? errno
            : throw new RuntimeError($"seccomp: {where}: errno {errno} for {name} does not fit in SECCOMP_RET_DATA (16 bits)");
    }

    /// <summary>ALLOW and LOG let the call run; a filter that cannot judge a call must not.</summary>
    private static bool IsPermissive(uint action) => action is RetAllow or RetLog;

    private static (bool I386, bool X32) Architectures(List<string>? names)
    {
        bool i386 = false, x32 = false;
        foreach (var a in names ?? [])
        {
            if (!KnownArchitectures.Contains(a))
            {
                throw new RuntimeError($"seccomp: unknown architecture {a}");
            }

            i386 |= a == "SCMP_ARCH_X86";
            x32 |= a == "SCMP_ARCH_X32";
        }

        return (i386, x32);
    }

    /// <summary>Rules by syscall number, in listed order, with unreachable and redundant ones pruned.</summary>
    private static List<(int Nr, List<Rule> Rules)> Group(List<SeccompSyscall>? syscalls, uint defaultAction)
    {
        var byNr = new SortedDictionary<int, List<Rule>>();
        var list = syscalls ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            var call = list[i] ?? throw new RuntimeError($"seccomp: syscalls[{i}] is null");
            var where = $"syscalls[{i}]";
            if (call.Names is null || call.Names.Count == 0)
            {
                throw new RuntimeError($"seccomp: {where}: names MUST contain at least one entry");
            }

            var action = Action(call.Action, call.ErrnoRet, where);
            var rules = Rules(call.Args, action, where);
            foreach (var name in call.Names)
            {
                if (string.IsNullOrEmpty(name))
                {
                    throw new RuntimeError($"seccomp: {where}: empty syscall name");
                }

                if (!SyscallTable.TryGetNumber(name, out var nr))
                {
                    continue; // not an x86_64 call, or newer than the table: runc skips it too
                }

                if (!byNr.TryGetValue(nr, out var group))
                {
                    byNr[nr] = group = [];
                }

                group.AddRange(rules);
            }
        }

        var result = new List<(int, List<Rule>)>();
        foreach (var (nr, rules) in byNr)
        {
            // Rules after an unconditional one can never be reached.
            var always = rules.FindIndex(r => r.Conditions.Length == 0);
            if (always >= 0)
            {
                rules.RemoveRange(always + 1, rules.Count - always - 1);
            }

            // Trailing rules that decide what falling through decides anyway (runc drops every
            // rule whose action is the default; with first-match-wins only trailing ones may go).
            while (rules.Count > 0 && rules[^1].Action == defaultAction)
            {
                rules.RemoveAt(rules.Count - 1);
            }

            if (rules.Count > 0)
            {
                result.Add((nr, rules));
            }
        }

        return result;
    }

    private static List<Rule> Rules(List<SeccompArg>? args, uint action, string where)
    {
        var conditions = new List<Condition>();
        var seen = new bool[6];
        var repeated = false;
        foreach (var a in args ?? [])
        {
            if (a is null)
            {
                throw new RuntimeError($"seccomp: {where}: null argument");
            }

            if (a.Index > 5)
            {
                throw new RuntimeError($"seccomp: {where}: argument index {a.Index} is out of range (a system call has 6 arguments, 0 to 5)");
            }

            var op = a.Op switch
            {
                "SCMP_CMP_NE" => CmpOp.Ne,
                "SCMP_CMP_LT" => CmpOp.Lt,
                "SCMP_CMP_LE" => CmpOp.Le,
                "SCMP_CMP_EQ" => CmpOp.Eq,
                "SCMP_CMP_GE" => CmpOp.Ge,
                "SCMP_CMP_GT" => CmpOp.Gt,
                "SCMP_CMP_MASKED_EQ" => CmpOp.MaskedEq,
                _ => throw new RuntimeError($"seccomp: {where}: unknown operator \"{a.Op}\""),
            };
            repeated |= seen[a.Index];
            seen[a.Index] = true;
            conditions.Add(new Condition((int)a.Index, op, a.Value, a.ValueTwo));
        }

        // runc (libcontainer/seccomp/seccomp_linux.go, matchCall): when an argument index repeats,
        // each condition becomes a rule of its own.
        return repeated
            ? conditions.Select(c => new Rule(action, [c])).ToList()
            : [new Rule(action, [.. conditions])];
    }

    /// <summary>Binary search over groups[lo..hi); the accumulator holds seccomp_data.nr on entry.</summary>
    private static void EmitTree(Assembler asm, List<(int Nr, List<Rule> Rules)> groups, int lo, int hi, uint defaultAction)
    {
        if (hi - lo <= LeafSize)
        {
            for (var i = lo; i < hi; i++)
            {
                EmitGroup(asm, groups[i].Nr, groups[i].Rules, defaultAction);
            }

            asm.Ret(defaultAction);
            return;
        }

        var mid = (lo + hi) / 2;
        var upper = new Label();
        var lower = new Assembler();
        EmitTree(lower, groups, lo, mid, defaultAction);

        // Near subtrees are jumped over directly; a lower half longer than 255 instructions is
        // jumped over through ja, whose offset has 32 bits.
        if (lower.Count <= byte.MaxValue)
        {
            asm.Jump(JmpJgeK, (uint)groups[mid].Nr, upper, null);
        }
        else
        {
            var start = new Label();
            asm.Jump(JmpJgeK, (uint)groups[mid].Nr, null, start);
            asm.JumpAlways(upper);
            asm.Mark(start);
        }

        asm.Append(lower);
        asm.Mark(upper);
        EmitTree(asm, groups, mid, hi, defaultAction);
    }

    /// <summary>
    /// <c>jeq nr</c> then the rules of that number. Every path through the body ends in a
    /// <c>ret</c>, so the accumulator (clobbered by argument loads) never flows to the next test.
    /// </summary>
    private static void EmitGroup(Assembler asm, int nr, List<Rule> rules, uint defaultAction)
    {
        var body = new Assembler();
        foreach (var rule in rules)
        {
            var next = new Label();
            foreach (var c in rule.Conditions)
            {
                EmitCondition(body, c, next);
            }

            body.Ret(rule.Action);
            if (rule.Conditions.Length == 0)
            {
                break; // pruning made this the last rule; nothing falls through it
            }

            body.Mark(next);
        }

        if (rules[^1].Conditions.Length > 0)
        {
            body.Ret(defaultAction);
        }

        var end = new Label();
        if (body.Count <= byte.MaxValue)
        {
            asm.Jump(JmpJeqK, (uint)nr, null, end);
        }
        else
        {
            var start = new Label();
            asm.Jump(JmpJeqK, (uint)nr, start, null);
            asm.JumpAlways(end);
            asm.Mark(start);
        }

        asm.Append(body);
        asm.Mark(end);
    }

    /// <summary>Falls through when the condition holds, jumps to <paramref name="fail"/> when not.</summary>
    private static void EmitCondition(Assembler asm, Condition c, Label fail)
    {
        var lo = OffArgs + (8 * (uint)c.Index);
        var hi = lo + 4;
        var vLo = (uint)c.Value;
        var vHi = (uint)(c.Value >> 32);
        var pass = new Label();
        switch (c.Op)
        {
            case CmpOp.Eq:
                asm.Load(hi);
                asm.Jump(JmpJeqK, vHi, null, fail);
                asm.Load(lo);
                asm.Jump(JmpJeqK, vLo, null, fail);
                break;
            case CmpOp.Ne:
                asm.Load(hi);
                asm.Jump(JmpJeqK, vHi, null, pass);
                asm.Load(lo);
                asm.Jump(JmpJeqK, vLo, fail, null);
                break;
            case CmpOp.Gt or CmpOp.Ge:
                // hi > vHi, or hi == vHi and lo > (>=) vLo.
                asm.Load(hi);
                asm.Jump(JmpJgtK, vHi, pass, null);
                asm.Jump(JmpJeqK, vHi, null, fail);
                asm.Load(lo);
                asm.Jump(c.Op == CmpOp.Gt ? JmpJgtK : JmpJgeK, vLo, null, fail);
                break;
            case CmpOp.Lt or CmpOp.Le:
                // The negation of GE (GT): hi < vHi, or hi == vHi and lo < (<=) vLo.
                asm.Load(hi);
                asm.Jump(JmpJgtK, vHi, fail, null);
                asm.Jump(JmpJeqK, vHi, null, pass);
                asm.Load(lo);
                asm.Jump(c.Op == CmpOp.Lt ? JmpJgeK : JmpJgtK, vLo, fail, null);
                break;
            case CmpOp.MaskedEq:
                var mLo = (uint)c.Value;
                var mHi = (uint)(c.Value >> 32);
                var dLo = (uint)c.ValueTwo;
                var dHi = (uint)(c.ValueTwo >> 32);

                // A 32-bit mask against a 32-bit datum (clone flags, say) has nothing to test above.
                if (mHi != 0 || dHi != 0)
                {
                    asm.Load(hi);
                    asm.Alu(AluAndK, mHi);
                    asm.Jump(JmpJeqK, dHi, null, fail);
                }

                asm.Load(lo);
                asm.Alu(AluAndK, mLo);
                asm.Jump(JmpJeqK, dLo, null, fail);
                break;
            default:
                throw new RuntimeError($"seccomp: internal error: operator {c.Op}");
        }

        asm.Mark(pass);
    }

    /// <summary>A jump target: a position fixed by <see cref="Assembler.Mark"/>.</summary>
    private sealed class Label
    {
        public int Position { get; set; } = -1;
    }

    private readonly record struct Insn(ushort Code, uint K, Label? Jt, Label? Jf);

    /// <summary>
    /// Instructions with symbolic targets (null = the next instruction), resolved by
    /// <see cref="Link"/>. A body assembled apart (to learn its length) is spliced in by
    /// <see cref="Append"/>, which moves its labels with it.
    /// </summary>
    private sealed class Assembler
    {
        private readonly List<Insn> insns = [];
        private readonly List<Label> marked = [];

        public int Count => insns.Count;

        public void Load(uint offset) => insns.Add(new Insn(LdWAbs, offset, null, null));

        public void Alu(ushort code, uint k) => insns.Add(new Insn(code, k, null, null));

        public void Ret(uint action) => insns.Add(new Insn(RetK, action, null, null));

        public void Jump(ushort code, uint k, Label? jt, Label? jf) => insns.Add(new Insn(code, k, jt, jf));

        public void JumpAlways(Label target) => insns.Add(new Insn(JmpJa, 0, target, null));

        public void Mark(Label label)
        {
            if (label.Position >= 0)
            {
                throw new RuntimeError("seccomp: internal error: label marked twice");
            }

            label.Position = insns.Count;
            marked.Add(label);
        }

        public void Append(Assembler other)
        {
            var offset = insns.Count;
            foreach (var l in other.marked)
            {
                l.Position += offset;
                marked.Add(l);
            }

            insns.AddRange(other.insns);
        }

        public SockFilter[] Link()
        {
            if (insns.Count > NativeSeccomp.MaxInstructions)
            {
                throw new RuntimeError($"seccomp: the profile compiles to {insns.Count} BPF instructions, more than the kernel's limit of {NativeSeccomp.MaxInstructions} (BPF_MAXINSNS)");
            }

            var program = new SockFilter[insns.Count];
            for (var i = 0; i < insns.Count; i++)
            {
                var (code, k, jt, jf) = insns[i];
                if (code == JmpJa)
                {
                    program[i] = new SockFilter(code, 0, 0, (uint)Offset(i, jt!, int.MaxValue));
                }
                else
                {
                    program[i] = new SockFilter(code, (byte)Offset(i, jt, byte.MaxValue), (byte)Offset(i, jf, byte.MaxValue), k);
                }
            }

            if (program.Length == 0 || program[^1].Code != RetK)
            {
                throw new RuntimeError("seccomp: internal error: the program does not end in ret");
            }

            return program;
        }

        private int Offset(int from, Label? target, int max)
        {
            if (target is null)
            {
                return 0;
            }

            if (target.Position < 0)
            {
                throw new RuntimeError("seccomp: internal error: jump to an unplaced label");
            }

            var offset = target.Position - (from + 1);
            if (offset < 0 || offset > max || from + 1 + offset >= insns.Count)
            {
                throw new RuntimeError($"seccomp: internal error: jump at instruction {from} to +{offset} is out of range (at most {max}, program of {insns.Count})");
            }

            return offset;
        }
    }
}
