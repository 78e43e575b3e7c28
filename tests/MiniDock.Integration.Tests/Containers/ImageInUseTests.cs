using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>An image a container was made from is never deleted under it (Docker's rmi and image prune rules).</summary>
public sealed class ImageInUseTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Rmi_refuses_an_image_used_by_a_container_and_force_only_untags_it()
    {
        var id = _cli.Ok("create", sandbox.Image, "true").Stdout.Trim();

        var line = _cli.Fails125("rmi", sandbox.Image);
        Assert.Contains("must force", line, StringComparison.Ordinal);
        Assert.Contains(id[..12], line, StringComparison.Ordinal);

        _cli.Ok("image", "prune", "-a");
        _cli.Ok("rmi", "-f", sandbox.Image);
        Assert.DoesNotContain(sandbox.Image.Split('/')[1].Split(':')[0], _cli.Ok("images").Stdout, StringComparison.Ordinal);

        // The container still starts from its (now untagged) image, and only then may the image go.
        Assert.Equal(0, _cli.Run("start", "-a", id).ExitCode);
        _cli.Ok("rm", id);
        _cli.Ok("image", "prune");
        Assert.Empty(_cli.ImagesJson());
    }

    [Fact]
    public void Rmi_of_a_running_containers_image_cannot_be_forced()
    {
        _cli.Ok("run", "-d", "--name", "busy", sandbox.Image, "sleep", "300");
        var line = _cli.Fails125("rmi", "-f", sandbox.Image);
        Assert.Contains("cannot be forced", line, StringComparison.Ordinal);
        _cli.Ok("rm", "-f", "busy");
        _cli.Ok("rmi", sandbox.Image);
    }
}
