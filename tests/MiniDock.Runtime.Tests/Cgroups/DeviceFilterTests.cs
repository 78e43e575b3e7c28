using System.Buffers.Binary;
using MiniDock.Runtime.Cgroups.V2;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Cgroups;

/// <summary>
/// The device filter generator, run by a small eBPF interpreter that implements just the opcodes it emits (and the
/// verifier checks that matter for them: every instruction reachable, forward jumps in range, r0 set on exit),
/// against a plain C# reading of the OCI semantics: default deny, last matching rule wins, each access bit on its own.
/// </summary>
public sealed class DeviceFilterTests
{
    private const int B = DeviceFilter.DevBlock, C = DeviceFilter.DevChar;
    private const int M = DeviceFilter.AccMknod, R = DeviceFilter.AccRead, W = DeviceFilter.AccWrite;

    private static DeviceCgroupRule Rule(bool allow, string? type, long? major, long? minor, string? access)
        => new() { Allow = allow, Type = type, Major = major, Minor = minor, Access = access };

    /// <summary>Runs the program on one <c>bpf_cgroup_dev_ctx</c>; true when it returns 1.</summary>
    internal static bool Run(byte[] prog, int type, uint major, uint minor, int access)
    {
        Assert.True(prog.Length % 8 == 0 && prog.Length > 0);
        var n = prog.Length / 8;
        CheckReachable(prog);
        var ctx = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx, (uint)((access << 16) | type));
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(4), major);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(8), minor);
        var reg = new ulong?[11];
        reg[1] = 0; // the ctx "pointer": loads are only allowed relative to r1 as loaded on entry
        for (var pc = 0; pc < n; pc++)
        {
            var (code, dst, src, off, imm) = Decode(prog, pc);
            switch (code)
            {
                case DeviceFilter.LdxMemW:
                    Assert.Equal(1, src);
                    Assert.True(off is 0 or 4 or 8, $"ctx load at {off}");
                    reg[dst] = BinaryPrimitives.ReadUInt32LittleEndian(ctx.AsSpan(off));
                    break;
                case DeviceFilter.And32Imm:
                    reg[dst] = (uint)(Value(reg, dst) & (uint)imm);
                    break;
                case DeviceFilter.Rsh32Imm:
                    reg[dst] = (uint)Value(reg, dst) >> imm;
                    break;
                case DeviceFilter.Mov32Imm:
                    reg[dst] = (uint)imm;
                    break;
                case DeviceFilter.Ja:
                    pc += off;
                    break;
                case DeviceFilter.JneImm:
                    if (Value(reg, dst) != (ulong)(long)imm)
                    {
                        pc += off;
                    }

                    break;
                case DeviceFilter.JsetImm:
                    if ((Value(reg, dst) & (ulong)(long)imm) != 0)
                    {
                        pc += off;
                    }

                    break;
                case DeviceFilter.Exit:
                    var r0 = Value(reg, 0);
                    Assert.True(r0 is 0 or 1, $"returns {r0}");
                    return r0 == 1;
                default:
                    Assert.Fail($"opcode 0x{code:x2} at {pc} is not one the generator should emit");
                    break;
            }
        }

        Assert.Fail("ran off the end of the program");
        return false;
    }

    private static ulong Value(ulong?[] reg, int r) => reg[r] ?? throw new Xunit.Sdk.XunitException($"r{r} read before it was written");

    private static (byte Code, int Dst, int Src, short Off, int Imm) Decode(byte[] p, int i)
        => (p[i * 8], p[(i * 8) + 1] & 0xf, p[(i * 8) + 1] >> 4, BinaryPrimitives.ReadInt16LittleEndian(p.AsSpan((i * 8) + 2)), BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan((i * 8) + 4)));

    /// <summary>The verifier's check_cfg: no unreachable instruction, no jump out of the program, no fall-through off its end.</summary>
    private static void CheckReachable(byte[] prog)
    {
        var n = prog.Length / 8;
        var seen = new bool[n];
        var work = new Stack<int>([0]);
        while (work.TryPop(out var pc))
        {
            Assert.InRange(pc, 0, n - 1);
            if (seen[pc])
            {
                continue;
            }

            seen[pc] = true;
            var (code, _, _, off, _) = Decode(prog, pc);
            switch (code)
            {
                case DeviceFilter.Exit:
                    break;
                case DeviceFilter.Ja:
                    work.Push(pc + 1 + off);
                    break;
                case DeviceFilter.JneImm or DeviceFilter.JsetImm:
                    work.Push(pc + 1 + off);
                    work.Push(pc + 1);
                    break;
                default:
                    work.Push(pc + 1);
                    break;
            }
        }

        var unreachable = Enumerable.Range(0, n).Where(i => !seen[i]).ToList();
        Assert.True(unreachable.Count == 0, $"unreachable instructions: {string.Join(',', unreachable)}");
    }

    /// <summary>The semantics, read plainly from the rules: per access bit, the last rule naming the device and the bit decides; none means deny.</summary>
    private static bool Reference(IReadOnlyList<DeviceCgroupRule> rules, int type, uint major, uint minor, int access)
    {
        foreach (var bit in new[] { M, R, W })
        {
            if ((access & bit) == 0)
            {
                continue;
            }

            var allowed = false;
            foreach (var r in rules)
            {
                var rtype = r.Type switch { "b" => B, "c" => C, _ => 0 };
                var racc = (r.Access ?? "rwm").Aggregate(0, (a, ch) => a | (ch == 'r' ? R : ch == 'w' ? W : M));
                var matches = (racc & bit) != 0 && (rtype == 0
                    || (rtype == type && (r.Major is null or < 0 || r.Major == major) && (r.Minor is null or < 0 || r.Minor == minor)));
                if (matches)
                {
                    allowed = r.Allow;
                }
            }

            if (!allowed)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Allows(IReadOnlyList<DeviceCgroupRule> rules, int type, uint major, uint minor, int access)
        => Run(DeviceFilter.Build(rules), type, major, minor, access);

    [Fact]
    public void No_rules_denies_everything()
    {
        Assert.False(Allows([], C, 1, 3, R));
        Assert.False(Allows([], B, 8, 0, M));
    }

    [Fact]
    public void The_brief_list_allows_null_fully_and_zero_read_only()
    {
        DeviceCgroupRule[] rules = [Rule(false, "a", null, null, "rwm"), Rule(true, "c", 1, 3, "rwm"), Rule(true, "c", 1, 5, "r")];
        Assert.True(Allows(rules, C, 1, 3, R | W));
        Assert.True(Allows(rules, C, 1, 3, M));
        Assert.True(Allows(rules, C, 1, 5, R));
        Assert.False(Allows(rules, C, 1, 5, W));
        Assert.False(Allows(rules, C, 1, 5, R | W)); // O_RDWR needs both
        Assert.False(Allows(rules, C, 1, 7, R));     // full: not listed
        Assert.False(Allows(rules, B, 1, 3, R));     // same numbers, other type
    }

    [Fact]
    public void Docker_defaults_allow_mknod_of_anything_but_not_opening_a_disk()
    {
        DeviceCgroupRule[] rules = [Rule(false, null, null, null, "rwm"), Rule(true, "c", null, null, "m"), Rule(true, "b", null, null, "m"), Rule(true, "c", 136, null, "rwm")];
        Assert.True(Allows(rules, B, 8, 0, M));
        Assert.False(Allows(rules, B, 8, 0, R));
        Assert.False(Allows(rules, B, 8, 0, W));
        Assert.True(Allows(rules, C, 136, 12345, R | W)); // wildcard minor
        Assert.False(Allows(rules, C, 137, 0, R));
    }

    [Fact]
    public void Last_matching_rule_wins()
    {
        Assert.False(Allows([Rule(true, "c", 1, 3, "rwm"), Rule(false, "c", 1, 3, "w")], C, 1, 3, W));
        Assert.True(Allows([Rule(true, "c", 1, 3, "rwm"), Rule(false, "c", 1, 3, "w")], C, 1, 3, R));
        Assert.True(Allows([Rule(false, "c", 1, 3, "rwm"), Rule(true, "c", 1, 3, "w")], C, 1, 3, W));
        Assert.False(Allows([Rule(true, "c", 1, null, "r"), Rule(false, "a", null, null, "rwm")], C, 1, 3, R)); // deny-all last
        Assert.True(Allows([Rule(false, "a", null, null, null), Rule(true, "a", null, null, null)], B, 8, 1, R | W | M));
    }

    [Fact]
    public void Type_a_ignores_major_and_minor_as_v1_does()
        => Assert.True(Allows([Rule(true, "a", 1, 3, "r")], B, 8, 0, R));

    [Fact]
    public void Invalid_rules_are_refused()
    {
        Assert.Throws<RuntimeError>(() => DeviceFilter.Build([Rule(true, "x", 1, 3, "r")]));
        Assert.Throws<RuntimeError>(() => DeviceFilter.Build([Rule(true, "c", 1, 3, "rx")]));
        Assert.Throws<RuntimeError>(() => DeviceFilter.Build([Rule(true, "c", 1L << 32, 3, "r")]));
    }

    /// <summary>Every combination of a set of tricky rules, checked against the reference over a grid of requests.</summary>
    [Fact]
    public void Generated_programs_agree_with_the_reference_semantics()
    {
        DeviceCgroupRule[] pool =
        [
            Rule(false, "a", null, null, "rwm"), Rule(true, "a", null, null, "r"), Rule(true, "c", null, null, "m"),
            Rule(true, "b", 8, null, "rw"), Rule(false, "b", 8, 1, "w"), Rule(true, "c", 1, 3, "rwm"), Rule(true, "c", null, 3, "w"),
            Rule(false, "c", 1, null, "r"), Rule(true, "c", 136, -1, null),
        ];
        var requests = from type in new[] { B, C }
                       from major in new uint[] { 1, 8, 136 }
                       from minor in new uint[] { 0, 1, 3 }
                       from access in Enumerable.Range(1, 7)
                       select (type, major, minor, access);
        var rnd = new Random(7);
        for (var round = 0; round < 400; round++)
        {
            var rules = Enumerable.Range(0, rnd.Next(0, 7)).Select(_ => pool[rnd.Next(pool.Length)]).ToList();
            var prog = DeviceFilter.Build(rules);
            foreach (var (type, major, minor, access) in requests)
            {
                Assert.True(
                    Reference(rules, type, major, minor, access) == Run(prog, type, major, minor, access),
                    $"rules [{string.Join("; ", rules.Select(r => $"{(r.Allow ? "allow" : "deny")} {r.Type} {r.Major}:{r.Minor} {r.Access}"))}] request type {type} {major}:{minor} access {access}");
            }
        }
    }
}
