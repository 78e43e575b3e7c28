using System.Runtime.CompilerServices;
using MiniDock.Native;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;
using static MiniDock.Runtime.Security.Seccomp.BpfCompiler;
using NativeSeccomp = MiniDock.Native.Seccomp;

namespace MiniDock.Runtime.Tests.Security.Seccomp;

public sealed class BpfCompilerTests
{
    private const int Read = 0;
    private const int Write = 1;
    private const int Getppid = 110;
    private const int Personality = 135;
    private const int Mount = 165;
    private const int Clone3 = 435;

    private static readonly ulong[] Interesting =
    [
        0, 1, 4, 5, 6, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x1_0000_0000, 0x1_0000_0004, 0x1_0000_0005,
        0x1_0000_0006, 0x2_0000_0005, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_0000_0005,
        0xffff_ffff_ffff_fffe, ulong.MaxValue,
    ];

    private static readonly string[] Ops = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

    private static SeccompSpec Spec(string defaultAction, params SeccompSyscall[] calls) => new() { DefaultAction = defaultAction, Syscalls = [.. calls] };

    private static SeccompSyscall Call(string action, params string[] names) => new() { Names = [.. names], Action = action };

    private static SeccompArg Arg(uint index, string op, ulong value, ulong valueTwo = 0) => new() { Index = index, Op = op, Value = value, ValueTwo = valueTwo };

    private static uint Run(SeccompSpec spec, int nr, params ulong[] args) => BpfInterpreter.Run(Compile(spec), SeccompData.Native(nr, args));

    [Fact]
    public void SockFilter_has_the_kernels_8_byte_layout()
    {
        Assert.Equal(8, Unsafe.SizeOf<SockFilter>());
        var insn = new SockFilter(0x1234, 0x56, 0x78, 0x9abcdef0);
        var bytes = new byte[8];
        Unsafe.WriteUnaligned(ref bytes[0], insn);
        Assert.Equal(new byte[] { 0x34, 0x12, 0x56, 0x78, 0xf0, 0xde, 0xbc, 0x9a }, bytes);
    }

    [Theory]
    [InlineData("SCMP_ACT_KILL", 0x00000000u)]
    [InlineData("SCMP_ACT_KILL_THREAD", 0x00000000u)]
    [InlineData("SCMP_ACT_KILL_PROCESS", 0x80000000u)]
    [InlineData("SCMP_ACT_TRAP", 0x00030000u)]
    [InlineData("SCMP_ACT_ERRNO", 0x00050001u)]
    [InlineData("SCMP_ACT_TRACE", 0x7ff00001u)]
    [InlineData("SCMP_ACT_ALLOW", 0x7fff0000u)]
    [InlineData("SCMP_ACT_LOG", 0x7ffc0000u)]
    public void The_default_action_decides_every_native_call_when_there_are_no_rules(string action, uint expected)
    {
        var program = Compile(Spec(action));
        foreach (var nr in new[] { -1, Read, Getppid, Mount, 450, 999, 0x3fffffff })
        {
            Assert.Equal(expected, BpfInterpreter.Run(program, SeccompData.Native(nr)));
        }
    }

    [Fact]
    public void DefaultErrnoRet_and_errnoRet_set_the_errno_of_ERRNO_and_TRACE()
    {
        var spec = Spec("SCMP_ACT_ERRNO", new SeccompSyscall { Names = ["mount"], Action = "SCMP_ACT_TRACE", ErrnoRet = 42 }, new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 0 });
        spec.DefaultErrnoRet = 13;
        Assert.Equal(RetErrno | 13, Run(spec, Write));
        Assert.Equal(RetTrace | 42, Run(spec, Mount));
        Assert.Equal(RetErrno | 0, Run(spec, Read));
    }

    [Fact]
    public void An_allow_list_with_an_errno_default_allows_the_listed_calls_only()
    {
        var spec = Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "read", "write", "getppid"), new SeccompSyscall { Names = ["clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 38 });
        Assert.Equal(RetAllow, Run(spec, Read));
        Assert.Equal(RetAllow, Run(spec, Write));
        Assert.Equal(RetAllow, Run(spec, Getppid));
        Assert.Equal(RetErrno | EPerm, Run(spec, Mount));
        Assert.Equal(RetErrno | 38, Run(spec, Clone3));
    }

    [Fact]
    public void A_deny_list_with_an_allow_default_denies_the_listed_calls_only()
    {
        var spec = Spec("SCMP_ACT_ALLOW", Call("SCMP_ACT_KILL_PROCESS", "mount"), Call("SCMP_ACT_LOG", "getppid"));
        Assert.Equal(RetKillProcess, Run(spec, Mount));
        Assert.Equal(RetLog, Run(spec, Getppid));
        Assert.Equal(RetAllow, Run(spec, Read));
    }

    public static TheoryData<string> AllOps() => [.. Ops];

    [Theory]
    [MemberData(nameof(AllOps))]
    public void Every_operator_compares_all_64_bits_unsigned(string op)
    {
        foreach (var value in Interesting)
        {
            // MASKED_EQ: value is the mask, valueTwo the datum; exercise a datum in each half.
            foreach (var valueTwo in op == "SCMP_CMP_MASKED_EQ" ? new ulong[] { 0, 5, 0x1_0000_0000, value & 0x1_0000_0005 } : [0UL])
            {
                var arg = Arg(2, op, value, valueTwo);
                var spec = Spec("SCMP_ACT_ERRNO", new SeccompSyscall { Names = ["getppid"], Action = "SCMP_ACT_ALLOW", Args = [arg] });
                var program = Compile(spec);
                foreach (var x in Interesting)
                {
                    var data = SeccompData.Native(Getppid, 0, 0, x);
                    var expected = SeccompModel.Holds(arg, data) ? RetAllow : RetErrno | EPerm;
                    Assert.True(expected == BpfInterpreter.Run(program, data), $"{op} value 0x{value:x} valueTwo 0x{valueTwo:x} arg 0x{x:x}");
                }
            }
        }
    }

    [Fact]
    public void The_high_word_of_an_argument_matters()
    {
        var eq5 = Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_EQ", 5)] });
        Assert.Equal(RetErrno | EPerm, Run(eq5, Personality, 5));
        Assert.Equal(RetAllow, Run(eq5, Personality, 0x1_0000_0005));

        var gt5 = Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_GT", 5)] });
        Assert.Equal(RetAllow, Run(gt5, Personality, 5));
        Assert.Equal(RetErrno | EPerm, Run(gt5, Personality, 0x1_0000_0000)); // low word 0 < 5, but the value is larger

        var lt = Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_LT", 0x1_0000_0000)] });
        Assert.Equal(RetErrno | EPerm, Run(lt, Personality, 0xffffffff));
        Assert.Equal(RetAllow, Run(lt, Personality, 0x1_0000_0000));
    }

    [Fact]
    public void Masked_eq_tests_the_masked_bits_against_valueTwo()
    {
        // clone without any namespace flag, as Docker's profile allows it.
        var spec = Spec("SCMP_ACT_ERRNO", new SeccompSyscall { Names = ["clone"], Action = "SCMP_ACT_ALLOW", Args = [Arg(0, "SCMP_CMP_MASKED_EQ", DockerLikeProfile.CloneNamespaceFlags, 0)] });
        Assert.Equal(RetAllow, Run(spec, 56, 0x01200011)); // CLONE_CHILD_SETTID|CHILD_CLEARTID|SIGCHLD (fork)
        Assert.Equal(RetErrno | EPerm, Run(spec, 56, 0x10000000 | 0x11)); // CLONE_NEWUSER
        Assert.Equal(RetAllow, Run(spec, 56, 0xffff_ffff_0000_0011)); // bits outside the mask are ignored

        var high = Spec("SCMP_ACT_ERRNO", new SeccompSyscall { Names = ["mmap"], Action = "SCMP_ACT_ALLOW", Args = [Arg(3, "SCMP_CMP_MASKED_EQ", 0xf_0000_00ff, 0x1_0000_0002)] });
        Assert.Equal(RetAllow, Run(high, 9, 0, 0, 0, 0x1_1234_5602));
        Assert.Equal(RetErrno | EPerm, Run(high, 9, 0, 0, 0, 0x2_1234_5602));
        Assert.Equal(RetErrno | EPerm, Run(high, 9, 0, 0, 0, 0x1_1234_5603));
    }

    [Fact]
    public void Rules_for_one_syscall_are_ORed_and_the_first_match_wins()
    {
        var spec = Spec(
            "SCMP_ACT_ALLOW",
            new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 11, Args = [Arg(0, "SCMP_CMP_EQ", 1)] },
            new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 22, Args = [Arg(0, "SCMP_CMP_LE", 2)] },
            new SeccompSyscall { Names = ["personality", "getppid"], Action = "SCMP_ACT_TRAP", Args = [Arg(1, "SCMP_CMP_EQ", 7)] });
        Assert.Equal(RetErrno | 11, Run(spec, Personality, 1, 7));
        Assert.Equal(RetErrno | 22, Run(spec, Personality, 2, 7));
        Assert.Equal(RetErrno | 22, Run(spec, Personality, 0));
        Assert.Equal(RetTrap, Run(spec, Personality, 3, 7));
        Assert.Equal(RetAllow, Run(spec, Personality, 3, 8));
        Assert.Equal(RetTrap, Run(spec, Getppid, 1, 7));
        Assert.Equal(RetAllow, Run(spec, Getppid, 1, 6));
    }

    [Fact]
    public void The_args_of_one_rule_are_ANDed()
    {
        var spec = Spec("SCMP_ACT_ALLOW", new SeccompSyscall
        {
            Names = ["mmap"],
            Action = "SCMP_ACT_KILL",
            Args = [Arg(0, "SCMP_CMP_EQ", 0), Arg(2, "SCMP_CMP_MASKED_EQ", 4, 4), Arg(5, "SCMP_CMP_GE", 0x1_0000_0000)],
        });
        Assert.Equal(RetKillThread, Run(spec, 9, 0, 99, 7, 0, 0, 0x1_0000_0000));
        Assert.Equal(RetAllow, Run(spec, 9, 1, 99, 7, 0, 0, 0x1_0000_0000));
        Assert.Equal(RetAllow, Run(spec, 9, 0, 99, 3, 0, 0, 0x1_0000_0000));
        Assert.Equal(RetAllow, Run(spec, 9, 0, 99, 7, 0, 0, 0xffff_ffff));
    }

    [Fact]
    public void A_repeated_argument_index_splits_the_rule_as_runc_does()
    {
        var spec = Spec("SCMP_ACT_ALLOW", new SeccompSyscall
        {
            Names = ["personality"],
            Action = "SCMP_ACT_ERRNO",
            Args = [Arg(0, "SCMP_CMP_EQ", 1), Arg(0, "SCMP_CMP_EQ", 2)],
        });
        Assert.Equal(RetErrno | EPerm, Run(spec, Personality, 1));
        Assert.Equal(RetErrno | EPerm, Run(spec, Personality, 2));
        Assert.Equal(RetAllow, Run(spec, Personality, 3));
    }

    [Fact]
    public void A_foreign_architecture_that_is_not_listed_kills_the_process()
    {
        var program = Compile(Spec("SCMP_ACT_ALLOW"));
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(program, new SeccompData(Read, AuditArchI386, new ulong[6])));
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(program, new SeccompData(Read, 0xC00000B7 /* AARCH64 */, new ulong[6])));
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(program, SeccompData.Native(unchecked((int)(X32SyscallBit | 0)))));
    }

    [Fact]
    public void A_listed_foreign_architecture_gets_a_denying_default_or_ENOSYS()
    {
        string[] archs = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"];
        var allowList = Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "read"));
        allowList.Architectures = [.. archs];
        allowList.DefaultErrnoRet = 13;
        var denyList = Spec("SCMP_ACT_ALLOW", Call("SCMP_ACT_ERRNO", "mount"));
        denyList.Architectures = [.. archs];

        var i386Read = new SeccompData(Read, AuditArchI386, new ulong[6]);
        var x32Read = SeccompData.Native(unchecked((int)(X32SyscallBit | Read)));
        Assert.Equal(RetErrno | 13, BpfInterpreter.Run(Compile(allowList), i386Read));
        Assert.Equal(RetErrno | 13, BpfInterpreter.Run(Compile(allowList), x32Read));
        Assert.Equal(RetErrno | ENoSys, BpfInterpreter.Run(Compile(denyList), i386Read));
        Assert.Equal(RetErrno | ENoSys, BpfInterpreter.Run(Compile(denyList), x32Read));
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(Compile(denyList), new SeccompData(Read, 0xC00000B7, new ulong[6])));

        var onlyX86 = Spec("SCMP_ACT_KILL_PROCESS");
        onlyX86.Architectures = ["SCMP_ARCH_X86"];
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(Compile(onlyX86), i386Read));
        onlyX86.DefaultAction = "SCMP_ACT_TRAP";
        Assert.Equal(RetKillProcess, BpfInterpreter.Run(Compile(onlyX86), x32Read)); // x32 is not listed
        Assert.Equal(RetTrap, BpfInterpreter.Run(Compile(onlyX86), i386Read));
    }

    [Fact]
    public void Syscall_number_minus_one_is_not_taken_for_x32()
    {
        var spec = Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "read"));
        Assert.Equal(RetErrno | EPerm, Run(spec, -1));
    }

    [Fact]
    public void Unknown_syscall_names_are_skipped()
    {
        var spec = Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "no_such_call", "read", "socketcall", "mmap2"));
        Assert.Equal(RetAllow, Run(spec, Read));
        Assert.Equal(RetErrno | EPerm, Run(spec, Write));
        Assert.Equal(Compile(Spec("SCMP_ACT_ERRNO")), Compile(Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "no_such_call"))));
    }

    [Fact]
    public void Rules_that_cannot_change_a_decision_are_dropped()
    {
        var bare = Compile(Spec("SCMP_ACT_ERRNO", Call("SCMP_ACT_ALLOW", "read")));
        var redundant = Compile(Spec(
            "SCMP_ACT_ERRNO",
            Call("SCMP_ACT_ERRNO", "write"),
            Call("SCMP_ACT_ALLOW", "read"),
            new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_TRAP", Args = [Arg(0, "SCMP_CMP_EQ", 1)] }));
        Assert.Equal(bare, redundant);

        // A default-action rule that shadows a later one is kept: first match wins.
        var shadowing = Spec(
            "SCMP_ACT_ERRNO",
            new SeccompSyscall { Names = ["personality"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_EQ", 8)] },
            Call("SCMP_ACT_ALLOW", "personality"));
        Assert.Equal(RetErrno | EPerm, Run(shadowing, Personality, 8));
        Assert.Equal(RetAllow, Run(shadowing, Personality, 0));
    }

    [Theory]
    [InlineData("SCMP_ACT_NOTIFY", "not supported")]
    [InlineData("SCMP_ACT_FLY", "unknown action")]
    [InlineData("", "unknown action")]
    public void Unsupported_and_unknown_actions_are_errors(string action, string message)
    {
        Assert.Contains(message, Assert.Throws<RuntimeError>(() => Compile(Spec("SCMP_ACT_ALLOW", Call(action, "read")))).Message);
        Assert.Contains(message, Assert.Throws<RuntimeError>(() => Compile(Spec(action))).Message);
    }

    [Fact]
    public void Invalid_specs_are_errors()
    {
        void Fails(SeccompSpec spec, string message) => Assert.Contains(message, Assert.Throws<RuntimeError>(() => Compile(spec)).Message);

        Fails(Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_LIKE", 1)] }), "unknown operator");
        Fails(Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", Args = [Arg(6, "SCMP_CMP_EQ", 1)] }), "index 6");

        // Even for a name the table does not know: a typo must not hide behind a skipped name.
        Fails(Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["no_such_call"], Action = "SCMP_ACT_ERRNO", Args = [Arg(0, "SCMP_CMP_LIKE", 1)] }), "unknown operator");
        Fails(Spec("SCMP_ACT_ALLOW", Call("SCMP_ACT_ERRNO")), "at least one");
        Fails(Spec("SCMP_ACT_ALLOW", Call("SCMP_ACT_ERRNO", "")), "empty");
        Fails(new SeccompSpec { DefaultAction = "SCMP_ACT_ALLOW", DefaultErrnoRet = 1 }, "takes no errno");
        Fails(Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_KILL", ErrnoRet = 1 }), "takes no errno");
        Fails(Spec("SCMP_ACT_ALLOW", new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 0x10000 }), "16 bits");
        Fails(new SeccompSpec { DefaultAction = "SCMP_ACT_ALLOW", Architectures = ["SCMP_ARCH_Z80"] }, "unknown architecture");
        Fails(new SeccompSpec { DefaultAction = "SCMP_ACT_ALLOW", ListenerPath = "/run/agent.sock" }, "not supported");
        Fails(new SeccompSpec { DefaultAction = "SCMP_ACT_ALLOW", ListenerMetadata = "x" }, "listenerPath");
        Fails(new SeccompSpec { DefaultAction = "SCMP_ACT_ALLOW", Flags = ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] }, "unknown flag");
    }

    [Fact]
    public void Flags_map_to_the_seccomp_filter_flag_bits()
    {
        Assert.Equal(0u, Flags(new SeccompSpec()));
        Assert.Equal(1u | 2u | 4u, Flags(new SeccompSpec { Flags = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"] }));

        // Accepted, but only meaningful with a notification listener, which is never created.
        Assert.Equal(2u, Flags(new SeccompSpec { Flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_LOG"] }));
        Assert.Throws<RuntimeError>(() => Flags(new SeccompSpec { Flags = ["SECCOMP_FILTER_FLAG_TSYNC_ESRCH"] }));
    }

    [Fact]
    public void A_docker_like_profile_compiles_within_the_limits_and_decides_like_the_spec()
    {
        var spec = DockerLikeProfile.Create();
        var program = Compile(spec);
        BpfInterpreter.Validate(program);
        Assert.InRange(program.Length, 1, NativeSeccomp.MaxInstructions);

        var rng = new Random(1234);
        var worst = 0;
        ulong[] personaValues = [0, 8, 0x20000, 0x20008, 0xffffffff, 0x1_0000_0000, 0x1_0000_0008, 40, 41, 0x7E020000, 0x10000000, 0x01200011];
        for (var nr = -1; nr <= 470; nr++)
        {
            for (var i = 0; i < 12; i++)
            {
                var args = new ulong[6];
                for (var j = 0; j < 6; j++)
                {
                    args[j] = rng.Next(3) == 0 ? (ulong)rng.NextInt64() : personaValues[rng.Next(personaValues.Length)];
                }

                var data = new SeccompData(nr, AuditArchX86_64, args);
                Assert.True(SeccompModel.Decide(spec, data) == BpfInterpreter.Run(program, data, out var executed), $"nr {nr} args {string.Join(',', args)}");
                worst = Math.Max(worst, executed);
            }
        }

        // The binary search keeps every decision short: a linear chain would need ~300 tests.
        Assert.InRange(worst, 1, 40);

        Assert.Equal(RetAllow, BpfInterpreter.Run(program, SeccompData.Native(Read)));
        Assert.Equal(RetErrno | EPerm, BpfInterpreter.Run(program, SeccompData.Native(Mount)));
        Assert.Equal(RetErrno | ENoSys, BpfInterpreter.Run(program, SeccompData.Native(Clone3)));
        Assert.Equal(RetAllow, BpfInterpreter.Run(program, SeccompData.Native(Personality, 0xffffffff)));
        Assert.Equal(RetErrno | EPerm, BpfInterpreter.Run(program, SeccompData.Native(Personality, 0x1_0000_0000)));
        Assert.Equal(RetAllow, BpfInterpreter.Run(program, SeccompData.Native(41 /* socket */, 2)));
        Assert.Equal(RetErrno | EPerm, BpfInterpreter.Run(program, SeccompData.Native(41, 40)));
        Assert.Equal(RetErrno | EPerm, BpfInterpreter.Run(program, new SeccompData(Read, AuditArchI386, new ulong[6])));
    }

    [Fact]
    public void Bodies_longer_than_a_conditional_jump_are_skipped_with_ja()
    {
        // 80 rules on one syscall: a body of ~400 instructions between its jeq and the next test.
        var rules = Enumerable.Range(0, 80).Select(i => new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)(100 + i), Args = [Arg(0, "SCMP_CMP_EQ", (ulong)i)] });
        var spec = Spec("SCMP_ACT_ALLOW", [.. rules, Call("SCMP_ACT_TRAP", "write"), Call("SCMP_ACT_KILL", "close"), Call("SCMP_ACT_LOG", "open")]);
        var program = Compile(spec);
        Assert.True(program.Length > 300);
        Assert.Contains(program, i => i.Code == 0x05 /* ja */ && i.K > 255);
        for (ulong i = 0; i < 82; i++)
        {
            Assert.Equal(i < 80 ? RetErrno | (uint)(100 + i) : RetAllow, Run(spec, Read, i));
        }

        Assert.Equal(RetTrap, Run(spec, Write));
        Assert.Equal(RetKillThread, Run(spec, 3));
        Assert.Equal(RetLog, Run(spec, 2));
        Assert.Equal(RetAllow, Run(spec, Mount));
    }

    [Fact]
    public void A_profile_beyond_BPF_MAXINSNS_is_an_error_not_a_truncated_program()
    {
        var args = new List<SeccompArg> { Arg(0, "SCMP_CMP_GT", 1), Arg(1, "SCMP_CMP_LT", 2), Arg(2, "SCMP_CMP_GE", 3), Arg(3, "SCMP_CMP_LE", 4), Arg(4, "SCMP_CMP_NE", 5), Arg(5, "SCMP_CMP_EQ", 6) };
        var rules = Enumerable.Range(0, 200).Select(i => new SeccompSyscall { Names = ["read"], Action = "SCMP_ACT_ERRNO", ErrnoRet = (uint)i, Args = args });
        var e = Assert.Throws<RuntimeError>(() => Compile(Spec("SCMP_ACT_ALLOW", [.. rules])));
        Assert.Contains("BPF_MAXINSNS", e.Message);
    }

    [Fact]
    public void Random_profiles_decide_like_the_spec()
    {
        var rng = new Random(42);
        string[] actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"];
        string[] names = ["read", "write", "open", "close", "mmap", "personality", "getppid", "no_such_call", "clone"];
        string[][] archLists = [[], ["SCMP_ARCH_X86_64"], ["SCMP_ARCH_X86"], ["SCMP_ARCH_X32", "SCMP_ARCH_X86_64"], ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]];
        for (var round = 0; round < 200; round++)
        {
            var calls = new List<SeccompSyscall>();
            for (var c = rng.Next(0, 25); c > 0; c--)
            {
                var action = actions[rng.Next(actions.Length)];
                var call = new SeccompSyscall
                {
                    Names = [.. Enumerable.Range(0, rng.Next(1, 3)).Select(_ => names[rng.Next(names.Length)])],
                    Action = action,
                    ErrnoRet = action is "SCMP_ACT_ERRNO" or "SCMP_ACT_TRACE" && rng.Next(2) == 0 ? (uint)rng.Next(0, 200) : null,
                    Args = [.. Enumerable.Range(0, rng.Next(0, 4)).Select(_ => Arg((uint)rng.Next(0, 3), Ops[rng.Next(Ops.Length)], Interesting[rng.Next(Interesting.Length)], Interesting[rng.Next(Interesting.Length)]))],
                };
                calls.Add(call);
            }

            var defaultAction = actions[rng.Next(actions.Length)];
            var spec = new SeccompSpec
            {
                DefaultAction = defaultAction,
                DefaultErrnoRet = defaultAction == "SCMP_ACT_ERRNO" && rng.Next(2) == 0 ? 5 : null,
                Architectures = [.. archLists[rng.Next(archLists.Length)]],
                Syscalls = calls,
            };
            var program = Compile(spec);
            for (var probe = 0; probe < 200; probe++)
            {
                var nr = rng.Next(10) switch
                {
                    0 => -1,
                    1 => unchecked((int)(X32SyscallBit | (uint)rng.Next(0, 20))),
                    _ => new[] { 0, 1, 2, 3, 9, 56, 110, 135, 400 }[rng.Next(9)],
                };
                var arch = rng.Next(8) == 0 ? AuditArchI386 : AuditArchX86_64;
                var data = new SeccompData(nr, arch, [.. Enumerable.Range(0, 6).Select(_ => Interesting[rng.Next(Interesting.Length)])]);
                Assert.True(SeccompModel.Decide(spec, data) == BpfInterpreter.Run(program, data), $"round {round} probe {probe}");
            }
        }
    }
}
