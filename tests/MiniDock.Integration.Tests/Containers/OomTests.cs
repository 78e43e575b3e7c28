using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>A memory hog under <c>-m</c> is killed by the kernel's OOM killer: exit 137 and <c>.State.OOMKilled</c>, as Docker reports it.</summary>
public sealed class OomTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Memory_hog_under_a_limit_exits_137_and_inspect_says_OOMKilled()
    {
        var image = _cli.Pulled(sandbox);

        // busybox tail keeps a newline-less input whole in memory: 300 MiB against a 64 MiB limit.
        var r = _cli.Run("run", "--name", "hog", "-m", "64m", image, "sh", "-c", "head -c 300m /dev/zero | tail > /dev/null");

        Assert.True(r.ExitCode == 137, r.Describe());
        Assert.Equal("137 true", _cli.InspectFormat("hog", "{{.State.ExitCode}} {{.State.OOMKilled}}"));
    }

    [Fact]
    public void A_container_that_stays_under_its_limit_is_not_OOMKilled()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "small", "-m", "64m", image, "sh", "-c", "head -c 8m /dev/zero | tail > /dev/null");
        Assert.Equal("0 false", _cli.InspectFormat("small", "{{.State.ExitCode}} {{.State.OOMKilled}}"));
    }
}
