using MiniDock.Native;
using MiniDock.Runtime.Init;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Spec;

/// <summary>
/// The runtime → init messages are written and read by hand (StateJson): a field that one side forgets is silently
/// lost (the compiled seccomp program once was, and the init compiled the profile a second time).
/// </summary>
public sealed class InitMessageTests
{
    [Fact]
    public void A_compiled_seccomp_program_survives_the_go_message_bit_for_bit()
    {
        var spec = new SeccompSpec
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            Syscalls = [new SeccompSyscall { Names = ["read", "write", "exit_group"], Action = "SCMP_ACT_ALLOW" }],
        };
        var filter = SeccompFilter.Compile(spec);
        var sent = new InitMessage { Type = "go", SeccompProgram = filter.ToBytes(), SeccompFlags = 5 };

        var got = StateJson.ReadInitMessage(StateJson.Write(sent));

        Assert.Equal("go", got.Type);
        Assert.Equal(5u, got.SeccompFlags);
        var back = CompiledFilter.FromBytes(got.SeccompProgram!, got.SeccompFlags);
        Assert.Equal(filter.Program, back.Program);
    }

    [Fact]
    public void A_message_without_a_program_reads_back_without_one()
    {
        var got = StateJson.ReadInitMessage(StateJson.Write(new InitMessage { Type = "go" }));
        Assert.Null(got.SeccompProgram);
    }

    [Fact]
    public void The_program_create_keeps_for_exec_reads_back_with_its_flags()
    {
        var path = Path.Combine(Path.GetTempPath(), $"seccomp-{Guid.NewGuid():N}.bpf");
        try
        {
            Assert.Null(CompiledFilter.Load(path));
            var filter = new CompiledFilter([new SockFilter(0x06, 0, 0, 0x7fff0000)], 4);
            filter.Save(path);
            var back = CompiledFilter.Load(path)!;
            Assert.Equal(4u, back.Flags);
            Assert.Equal(filter.Program, back.Program);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_program_that_is_not_whole_instructions_is_refused()
        => Assert.Throws<RuntimeError>(() => CompiledFilter.FromBytes(new byte[12], 0));

    [Fact]
    public void Instructions_are_laid_out_as_struct_sock_filter()
    {
        var bytes = new CompiledFilter([new SockFilter(0x15, 1, 2, 0xC000003E)], 0).ToBytes();
        Assert.Equal(new byte[] { 0x15, 0x00, 0x01, 0x02, 0x3E, 0x00, 0x00, 0xC0 }, bytes);
    }
}
