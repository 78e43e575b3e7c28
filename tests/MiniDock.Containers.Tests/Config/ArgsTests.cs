using MiniDock.Containers.Config;
using MiniDock.Images;

namespace MiniDock.Containers.Tests.Config;

/// <summary>process.args = Entrypoint + Cmd, with Docker's --entrypoint and trailing-args rules, and --init wrapping.</summary>
public sealed class ArgsTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    public static TheoryData<string[]?, string[]?, string?, string[], string[]> Cases => new()
    {
        // image Entrypoint, image Cmd, --entrypoint, trailing args, expected
        { null, ["sh"], null, [], ["sh"] },
        { ["/entry"], null, null, [], ["/entry"] },
        { ["/entry", "-x"], ["a", "b"], null, [], ["/entry", "-x", "a", "b"] },
        { ["/entry"], ["a"], null, ["c", "d"], ["/entry", "c", "d"] },
        { null, ["sh"], null, ["echo", "hi"], ["echo", "hi"] },
        { ["/entry"], ["a"], "/other", [], ["/other"] },
        { ["/entry"], ["a"], "/other", ["x"], ["/other", "x"] },
        { ["/entry"], ["a"], "", ["ls", "-l"], ["ls", "-l"] },
        { null, ["a"], "/bin/sh -c", [], ["/bin/sh -c"] },
        { [], ["only-cmd"], null, [], ["only-cmd"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Entrypoint_and_cmd_combine_as_docker_does(string[]? entrypoint, string[]? cmd, string? cliEntrypoint, string[] args, string[] expected)
    {
        var r = _f.Build(new ImageConfig { Entrypoint = entrypoint, Cmd = cmd }, new RunOptions { Entrypoint = cliEntrypoint, Args = [.. args] });
        Assert.Equal(expected, r.Args);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData(new string[0], new string[0], null)]
    [InlineData(null, new[] { "sh" }, "")]
    public void An_empty_command_is_an_error(string[]? entrypoint, string[]? cmd, string? cliEntrypoint)
    {
        var e = Assert.Throws<ContainerException>(() => _f.Build(new ImageConfig { Entrypoint = entrypoint, Cmd = cmd }, new RunOptions { Entrypoint = cliEntrypoint }));
        Assert.Equal("no command specified", e.Message);
        Assert.Equal(125, e.ExitCode);
        Assert.False(File.Exists(Path.Combine(_f.Bundle, "config.json")));
    }

    [Fact]
    public void Init_wraps_args_with_docker_init_and_binds_tini_readonly()
    {
        var r = _f.Build(new ImageConfig { Entrypoint = ["/entry"], Cmd = ["a"] }, new RunOptions { Init = true });
        Assert.Equal(["/sbin/docker-init", "--", "/entry", "a"], r.Args);
        var spec = SpecAssert.Parse(r);
        var init = Assert.Single(spec.Mounts!, m => m.Destination == "/sbin/docker-init");
        Assert.Equal(_f.Init, init.Source);
        Assert.Equal("bind", init.Type);
        Assert.Contains("ro", init.Options!);
        Assert.Same(init, spec.Mounts![^1]);
        Assert.DoesNotContain(r.Mounts, m => m.Destination == "/sbin/docker-init");
    }

    [Fact]
    public void Init_without_a_tini_is_a_clear_error()
    {
        var inputs = _f.Inputs(options: new RunOptions { Init = true });
        var e = Assert.Throws<ContainerException>(() => BundleBuilder.Build(new BundleInputs
        {
            Image = inputs.Image, Options = inputs.Options, ContainerId = inputs.ContainerId, RootPath = inputs.RootPath, BundleDir = inputs.BundleDir,
            InitBinary = null,
        }));
        Assert.Equal("--init: no tini-static found (apt-get install tini)", e.Message);
    }

    [Fact]
    public void Without_init_no_init_mount()
    {
        var r = _f.Build();
        Assert.DoesNotContain(SpecAssert.Parse(r).Mounts!, m => m.Destination == "/sbin/docker-init");
        Assert.Equal(["sh"], r.Args);
    }
}
