using System.Text.Json;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// daemon.json's <c>registry-mirrors</c> in MiniDock's config file: a Docker Hub reference is served by
/// the mirror (here the loopback registry, holding library/busybox), with no request to Docker Hub —
/// this machine cannot reach it, so a pull that ignored the mirror would fail.
/// </summary>
public sealed class MirrorTests(RegistryFixture registry, ITestOutputHelper output) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void A_docker_hub_reference_is_pulled_from_the_mirror_and_kept_under_its_docker_io_name()
    {
        registry.SkopeoOk("copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false",
            registry.DockerRef("busybox:oci"), registry.DockerRef("library/busybox:mirrored"));
        var config = Path.Combine(_cli.Dir, "config.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, string[]>
        {
            ["registry-mirrors"] = [$"http://{registry.Host}"],
        }));
        _cli.Env["MINIDOCK_CONFIG"] = config;

        Assert.Equal("docker.io/library/busybox:mirrored", _cli.Ok("pull", "-q", "busybox:mirrored").Stdout.Trim());

        using var row = JsonDocument.Parse(_cli.Ok("images", "--format", "json").Stdout.Trim().Split('\n').Single());
        Assert.Equal("busybox", row.RootElement.GetProperty("Repository").GetString());
        Assert.Equal("mirrored", row.RootElement.GetProperty("Tag").GetString());
    }
}
