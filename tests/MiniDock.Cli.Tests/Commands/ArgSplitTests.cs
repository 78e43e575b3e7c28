using MiniDock.Cli.Commands;

namespace MiniDock.Cli.Tests.Commands;

public sealed class ArgSplitTests
{
    [Theory]
    [InlineData("run alpine ls -la", "run alpine", "ls -la")]
    [InlineData("run -it --rm alpine sh", "run -it --rm alpine", "sh")]
    [InlineData("run -e A=1 --name x alpine env", "run -e A=1 --name x alpine", "env")]
    [InlineData("run --name=x -v /a:/b alpine", "run --name=x -v /a:/b alpine", "")]
    [InlineData("run -de A=1 alpine true", "run -de A=1 alpine", "true")]
    [InlineData("run -eA=1 alpine true", "run -eA=1 alpine", "true")]
    [InlineData("run --rm -- alpine -x", "run --rm alpine", "-x")]
    [InlineData("run -u dev alpine id -u", "run -u dev alpine", "id -u")]
    public void The_containers_command_starts_after_the_first_positional(string line, string head, string tail)
    {
        var (h, t) = ArgSplit.Split(line.Split(' '), 1, RunFlags.ValueOptions);
        Assert.Equal(head, string.Join(' ', h));
        Assert.Equal(tail, string.Join(' ', t));
    }

    [Fact]
    public void Exec_splits_after_the_container_name()
    {
        var (h, t) = ArgSplit.Split(["exec", "-w", "/tmp", "web", "ls", "-l"], 1, ExecCommand.ValueOptions);
        Assert.Equal(["exec", "-w", "/tmp", "web"], h);
        Assert.Equal(["ls", "-l"], t);
    }
}
