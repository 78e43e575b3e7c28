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
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-mirror-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_docker_hub_reference_is_pulled_from_the_mirror_and_kept_under_its_docker_io_name()
    {
        registry.SkopeoOk("copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false",
            registry.DockerRef("busybox:oci"), registry.DockerRef("library/busybox:mirrored"));
        var config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, string[]>
        {
            ["registry-mirrors"] = [$"http://{registry.Host}"],
        }));
        var env = new Dictionary<string, string>
        {
            ["MINIDOCK_ROOT"] = Path.Combine(_dir, "root"),
            ["MINIDOCK_CONFIG"] = config,
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
        var bin = Path.Combine(RuntimeFixture.RepoRoot, "bin", "minidock");

        var pull = ProcessRunner.Run(bin, ["pull", "-q", "busybox:mirrored"], TimeSpan.FromSeconds(60), env, _dir);
        output.WriteLine(pull.Describe());
        Assert.True(pull.ExitCode == 0, pull.Describe());
        Assert.Equal("docker.io/library/busybox:mirrored", pull.Stdout.Trim());

        var images = ProcessRunner.Run(bin, ["images", "--format", "json"], TimeSpan.FromSeconds(30), env, _dir);
        using var row = JsonDocument.Parse(images.Stdout.Trim().Split('\n').Single());
        Assert.Equal("busybox", row.RootElement.GetProperty("Repository").GetString());
        Assert.Equal("mirrored", row.RootElement.GetProperty("Tag").GetString());
    }
}
