using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Registry;

/// <summary>
/// A pull unpacks each layer once, into DATA/layers/&lt;chain-id&gt;, in overlay form (the second layer's
/// whiteout becomes a 0:0 character device), and rmi removes the directories nothing uses any more.
/// </summary>
public sealed class UnpackTests(RegistryFixture registry, ITestOutputHelper output) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private string LayersDir => Path.Combine(_cli.DataDir, "layers");

    [Fact]
    public void Pull_unpacks_each_layer_by_chain_id_in_overlay_form_and_rmi_removes_them()
    {
        var reference = registry.Reference("busybox:oci");
        _cli.Ok("pull", reference);

        var layers = _cli.Inspect(reference)["Layers"]!.AsArray().Select(l => (string)l!["ChainID"]!).ToList();
        Assert.Equal(2, layers.Count);
        var dirs = layers.Select(c => Path.Combine(LayersDir, c["sha256:".Length..])).ToList();
        Assert.All(dirs, d => Assert.True(Directory.Exists(d), $"{d} was not unpacked"));
        Assert.Empty(Directory.EnumerateDirectories(LayersDir, ".tmp-*"));

        var busybox = Path.Combine(dirs[0], "bin", "busybox");
        Assert.True(File.Exists(busybox) && (File.GetUnixFileMode(busybox) & UnixFileMode.UserExecute) != 0, "layer 1 lacks an executable bin/busybox");
        Assert.Equal(RegistryImages.Motd, File.ReadAllText(Path.Combine(dirs[1], "etc", "motd")));

        var stat = ProcessRunner.Run("/usr/bin/stat", ["-c", "%F %t:%T", Path.Combine(dirs[1], RegistryImages.RemovedFile)], TimeSpan.FromSeconds(10));
        Assert.Equal("character special file 0:0", stat.Stdout.Trim());

        _cli.Ok("rmi", reference);
        Assert.All(dirs, d => Assert.False(Directory.Exists(d), $"{d} outlived the image"));
    }
}
