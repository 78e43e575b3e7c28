using System.Security.Cryptography;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Hostile layers, each its own image (<see cref="TarCaseImages"/>): a "../../" entry and an absolute entry (contained
/// inside the layer), a symlink to a host directory followed by a file through it and a hardlink to the host's
/// /etc/passwd (refused: exit 125, one line naming the problem, no image recorded). None may write outside
/// MiniDock's layer dir. Also: a hardlink to a file of a lower layer.
/// </summary>
public sealed class TarHostileTests(TarCaseFixture images, ITestOutputHelper output) : IClassFixture<TarCaseFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    // "../" and absolute names are CONTAINED (the issue allows contained or refused): they are cleaned as if the
    // layer dir were "/", as containerd's fs.RootPath does, and land inside the layer, never outside.
    [Fact]
    public void An_entry_that_climbs_out_with_dot_dot_lands_inside_the_layer()
    {
        var inside = PullContained(TarCaseImages.DotDot);

        Assert.Equal("escaped\n", File.ReadAllText(Path.Combine(inside, TarCaseImages.EscapeName)));
    }

    [Fact]
    public void An_absolute_entry_lands_inside_the_layer()
    {
        var inside = PullContained(TarCaseImages.Absolute);

        Assert.Equal("evil\n", File.ReadAllText(Path.Combine(inside, "etc", TarCaseImages.AbsoluteName)));
    }

    [Fact]
    public void Pull_refuses_a_file_entry_written_through_a_symlink_to_a_host_directory()
    {
        var line = PullRefused(TarCaseImages.SymlinkEscape);

        Assert.Contains("link", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Pull_refuses_a_hardlink_to_a_host_file()
    {
        var line = PullRefused(TarCaseImages.HardlinkEscape);

        Assert.Contains("passwd", line, StringComparison.Ordinal);
        Assert.Contains("outside", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Pull_error_names_the_tar_entry_it_stopped_at()
    {
        var line = PullRefused(TarCaseImages.SymlinkEscape);

        Assert.Contains("entry \"link/pwned\"", line, StringComparison.Ordinal);
        Assert.Contains("layer sha256:", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TarCaseImages.DotDot)]
    [InlineData(TarCaseImages.Absolute)]
    [InlineData(TarCaseImages.SymlinkEscape)]
    [InlineData(TarCaseImages.HardlinkEscape)]
    public void Hostile_layer_writes_nothing_outside_whatever_the_pull_answers(string repoTag)
    {
        using var outside = new OutsideTargets();

        var r = _cli.Run("pull", images.Reference(repoTag));

        outside.AssertUntouched(_cli, r.Describe());
    }

    [Fact]
    public void Hardlink_to_a_file_of_a_lower_layer_shows_the_lower_content()
    {
        var reference = images.Reference(TarCaseImages.HardlinkLower);
        _cli.Ok("pull", "-q", reference);
        var id = _cli.Ok("create", reference).Stdout.Trim();
        var rootfs = _cli.Ok("mount", id).Stdout.Trim();

        var actual = TarListing.Read(rootfs, out _);

        Assert.Equal("from the lower layer\n", File.ReadAllText(Path.Combine(rootfs, "base", "link")));
        Assert.Equal("from the lower layer\n", File.ReadAllText(Path.Combine(rootfs, "base", "file")));
        Assert.Equal('f', actual["base/link"].Type);
    }

    /// <summary>Pulls a one-layer hostile image that must be contained; returns its layer dir, after checking nothing is outside.</summary>
    private string PullContained(string repoTag)
    {
        using var outside = new OutsideTargets();
        var reference = images.Reference(repoTag);
        _cli.Ok("pull", "-q", reference);
        outside.AssertUntouched(_cli, "pull of " + repoTag);
        var chain = (string)_cli.Inspect(reference)["Layers"]!.AsArray().Single()!["ChainID"]!;
        return Path.Combine(_cli.DataDir, "layers", chain["sha256:".Length..]);
    }

    /// <summary>Asserts the pull fails with one line, leaves nothing outside, records no image; returns the line.</summary>
    private string PullRefused(string repoTag)
    {
        using var outside = new OutsideTargets();
        var reference = images.Reference(repoTag);

        var line = _cli.Fails125("pull", reference);

        outside.AssertUntouched(_cli, line);
        var repository = reference[..reference.LastIndexOf(':')];
        Assert.DoesNotContain(_cli.ImagesJson(), i => (string?)i["Repository"] == repository);
        Assert.NotEqual(0, _cli.Run("image", "inspect", reference).ExitCode);
        var layers = Path.Combine(_cli.DataDir, "layers");
        Assert.True(!Directory.Exists(layers) || !Directory.EnumerateFileSystemEntries(layers, ".tmp-*").Any(), "a failed unpack left its temporary dir");
        return line;
    }

    /// <summary>
    /// Every place a hostile entry would write if it escaped: the host dir the symlink points to (created empty
    /// here, removed on dispose), /etc/&lt;evil&gt;, the host's /etc/passwd (link count, size, mtime, hash), and
    /// the data dir's own parents for "../../escape".
    /// </summary>
    private sealed class OutsideTargets : IDisposable
    {
        private readonly (ulong Links, long Size, DateTime Mtime, string Hash) _passwd = Passwd();

        public OutsideTargets()
        {
            Directory.CreateDirectory(TarCaseImages.OutsideDir);
        }

        private static string AbsoluteTarget => "/etc/" + TarCaseImages.AbsoluteName;

        public void AssertUntouched(MinidockCli cli, string what)
        {
            Assert.Empty(Directory.EnumerateFileSystemEntries(TarCaseImages.OutsideDir));
            Assert.False(Path.Exists(AbsoluteTarget), $"{AbsoluteTarget} was created: {what}");
            Assert.Equal(_passwd, Passwd());

            // "../../escape" from DATA/layers/<dir> is DATA/escape; anywhere under the test's dir but inside a layer is outside.
            var layers = Path.Combine(cli.DataDir, "layers") + "/";
            var escaped = Directory.EnumerateFiles(cli.Dir, TarCaseImages.EscapeName, SearchOption.AllDirectories)
                .Where(p => !p.StartsWith(layers, StringComparison.Ordinal)).ToList();
            Assert.True(escaped.Count == 0, $"written outside the layer dirs: {string.Join(", ", escaped)}; {what}");
            Assert.False(Path.Exists(Path.Combine("/tmp", TarCaseImages.EscapeName)), $"/tmp/{TarCaseImages.EscapeName} was created: {what}");
        }

        public void Dispose()
        {
            Directory.Delete(TarCaseImages.OutsideDir, recursive: true);
            if (Path.Exists(AbsoluteTarget))
            {
                File.Delete(AbsoluteTarget); // only ever there if MiniDock wrote it: keep the host clean
            }
        }

        private static (ulong, long, DateTime, string) Passwd()
        {
            var r = ProcessRunner.Run("/usr/bin/stat", ["-c", "%h", "/etc/passwd"], TimeSpan.FromSeconds(10));
            var info = new FileInfo("/etc/passwd");
            return (ulong.Parse(r.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture), info.Length, info.LastWriteTimeUtc,
                Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes("/etc/passwd"))));
        }
    }
}
