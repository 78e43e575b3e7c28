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

    /// <summary>
    /// A flag that takes a value but is missing from <see cref="RunFlags.ValueOptions"/> makes the split take its value
    /// for the image (`run --dns 1.2.3.4 IMAGE` once failed with "Required argument missing"): every such option of
    /// run and create, each alias, must be listed.
    /// </summary>
    [Fact]
    public void Every_run_and_create_option_that_takes_a_value_is_known_to_the_split()
    {
        foreach (var run in new[] { true, false })
        {
            var cmd = new System.CommandLine.Command(run ? "run" : "create");
            new RunFlags().AddTo(cmd, run);
            var missing = cmd.Options.Where(o => o.ValueType != typeof(bool) && o.Name is not ("--help" or "-h" or "-?"))
                .SelectMany(o => o.Aliases.Append(o.Name)).Where(n => !RunFlags.ValueOptions.Contains(n)).ToList();
            Assert.True(missing.Count == 0, "value options the split does not know: " + string.Join(", ", missing));
        }
    }

    [Fact]
    public void Exec_splits_after_the_container_name()
    {
        var (h, t) = ArgSplit.Split(["exec", "-w", "/tmp", "web", "ls", "-l"], 1, ExecCommand.ValueOptions);
        Assert.Equal(["exec", "-w", "/tmp", "web"], h);
        Assert.Equal(["ls", "-l"], t);
    }
}
