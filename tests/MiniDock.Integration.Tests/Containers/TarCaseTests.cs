using System.Text;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Every tar case of a layer, from hand-made layers pushed to a real registry (<see cref="TarCaseImages"/>), judged
/// where it matters: on the merged rootfs of a container (<c>minidock create</c>, then <c>minidock mount</c>),
/// against a listing written out by hand (path, type, mode with setuid/setgid/sticky, owner, size and content
/// hash or link target or device numbers, link count, and mtime for a few entries).
/// </summary>
public sealed class TarCaseTests(TarCaseFixture images, ITestOutputHelper output) : IClassFixture<TarCaseFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    private string Image => images.Reference(TarCaseImages.Main);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Hand_made_layers_use_pax_records_gnu_long_links_base256_ids_a_ustar_prefix_and_three_compressions()
    {
        var pax = TarRawHeaders.Read(TarCaseImages.MainLayer1());
        var paxRecords = string.Join("", pax.Where(h => h.TypeFlag == 'x').Select(h => Encoding.UTF8.GetString(h.Data)));
        Assert.Contains(" path=" + TarCaseImages.LongPaxName + "\n", paxRecords, StringComparison.Ordinal);
        Assert.Contains(" linkpath=" + TarCaseImages.LongPaxTarget + "\n", paxRecords, StringComparison.Ordinal);
        Assert.Contains(" uid=3000000\n", paxRecords, StringComparison.Ordinal);
        Assert.Contains(" SCHILY.xattr.security.capability=", paxRecords, StringComparison.Ordinal);

        var gnu = TarRawHeaders.Read(TarCaseImages.MainLayer2());
        Assert.All(gnu, h => Assert.Equal("ustar  \0", h.Magic));
        Assert.Contains(gnu, h => h.TypeFlag == 'L' && Encoding.UTF8.GetString(h.Data).TrimEnd('\0') == TarCaseImages.LongGnuName);
        Assert.Contains(gnu, h => h.TypeFlag == 'K' && Encoding.UTF8.GetString(h.Data).TrimEnd('\0') == TarCaseImages.LongGnuName);
        Assert.Contains(gnu, h => h.TypeFlag == 'K' && Encoding.UTF8.GetString(h.Data).TrimEnd('\0') == TarCaseImages.LongGnuTarget);
        Assert.Contains(gnu, h => (h.UidFieldFirstByte & 0x80) != 0);

        var ustar = TarRawHeaders.Read(TarCaseImages.MainLayer3());
        Assert.All(ustar, h => Assert.Equal("ustar\000", h.Magic));
        Assert.Contains(ustar, h => h.Prefix.Length > 0 && h.Prefix + "/" + h.Name == TarCaseImages.UstarName);

        var served = PushedLayers(TarCaseImages.Main);
        Assert.Equal([MediaTypes.OciLayerGzip, MediaTypes.OciLayerZstd, "application/vnd.oci.image.layer.v1.tar"], served);
    }

    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void Merged_rootfs_lists_exactly_the_expected_entries(string driver)
    {
        var rootfs = MountMain(driver);

        var actual = TarListing.Read(rootfs, out _);

        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, under: null, $"{driver} rootfs {rootfs}");
    }

    [Fact]
    public void Whiteouts_hide_a_lower_file_and_a_lower_directory_with_its_subtree()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out _);

        Assert.False(actual.ContainsKey("wh/gone.txt"), "wh/.wh.gone.txt did not hide layer 1's file");
        Assert.False(actual.ContainsKey("wh/gonedir"), "wh/.wh.gonedir did not hide layer 1's directory");
        Assert.DoesNotContain(actual.Keys, p => p.StartsWith("wh/.wh.", StringComparison.Ordinal));
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "wh", "whiteouts");
    }

    [Fact]
    public void Whiteout_never_hides_an_entry_of_its_own_layer_before_or_after_it_in_the_tar()
    {
        var rootfs = MountMain();

        // Layer 2 holds .wh.x then x, and y then .wh.y: both are layer 2's files, neither a whiteout device.
        Assert.Equal(TarCaseImages.LayerTwoX, File.ReadAllText(Path.Combine(rootfs, "wh", "x")));
        Assert.Equal("layer 2 y\n", File.ReadAllText(Path.Combine(rootfs, "wh", "y")));
    }

    [Fact]
    public void Opaque_marker_hides_lower_entries_and_keeps_its_own_layers_even_when_it_comes_last()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out _);

        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "opq", "opaque marker first in the tar");
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "opq2", "opaque marker last in the tar");
        var xattrs = Getfattr("-d", "-m", "-", Path.Combine(rootfs, "opq"), Path.Combine(rootfs, "opq2"));
        Assert.DoesNotContain("trusted.overlay", xattrs, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_replaced_by_a_file_and_then_by_a_directory_again_keeps_nothing_of_the_first()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out _);

        Assert.False(actual.ContainsKey("swap/child"), "layer 1's swap/child came back under layer 3's swap/");
        foreach (var top in new[] { "swap", "dir2file", "file2dir", "attrs" })
        {
            TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, top, "replacements");
        }
    }

    [Fact]
    public void Hardlinks_within_a_layer_are_one_inode_in_pax_and_gnu_layers()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out var inodes);

        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "hl", "PAX hardlinks");
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "hl2", "GNU hardlinks");
        Assert.Equal(inodes["hl/orig"], inodes["hl/same"]);
        Assert.Equal(inodes["hl/orig"], inodes["hl/sub/deep"]);
        Assert.Equal(inodes["hl2/a"], inodes["hl2/b"]);
        Assert.Equal(inodes[TarCaseImages.LongGnuName], inodes[TarCaseImages.LongGnuHardlink]);
    }

    [Fact]
    public void Names_and_link_targets_over_100_bytes_survive_in_pax_gnu_and_ustar()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out _);

        Assert.True(TarCaseImages.LongPaxName.Length > 255 && TarCaseImages.LongGnuName.Length > 255, "the long names are not long");
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "long", "long names");
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "ustar", "USTAR prefix");
    }

    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void Pax_xattrs_reach_the_rootfs_user_security_capability_and_libarchive(string driver)
    {
        var rootfs = MountMain(driver);
        var plain = Path.Combine(rootfs, "xattr", "plain");

        Assert.Equal(TarCaseImages.UserXattr, Getfattr("-n", "user.foo", "--only-values", plain));
        Assert.Equal(TarCaseImages.LibarchiveXattr, Getfattr("-n", "user.lib", "--only-values", plain));
        Assert.Equal(TarCaseImages.DirXattr, Getfattr("-n", "user.dir", "--only-values", Path.Combine(rootfs, "xattr")));
        var cap = Getfattr("-n", "security.capability", "-e", "hex", Path.Combine(rootfs, "xattr", "capbin"));
        Assert.Contains("security.capability=0x" + Convert.ToHexStringLower(TarCaseImages.Capability), cap, StringComparison.Ordinal);
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), TarListing.Read(rootfs, out _), "xattr", $"{driver} xattr files");
    }

    [Fact]
    public void Binary_security_capability_that_is_not_utf8_is_kept_byte_for_byte()
    {
        var reference = images.Reference(TarCaseImages.CapSetuid);
        _cli.Ok("pull", "-q", reference);
        var id = _cli.Ok("create", reference).Stdout.Trim();
        var rootfs = _cli.Ok("mount", id).Stdout.Trim();

        var cap = Getfattr("-n", "security.capability", "-e", "hex", Path.Combine(rootfs, "xattr", "setuidcap"));

        Assert.Contains("security.capability=0x" + Convert.ToHexStringLower(TarCaseImages.SetuidCapability), cap, StringComparison.Ordinal);
    }

    [Fact]
    public void Devices_fifo_special_modes_owners_big_ids_and_an_absolute_symlink_are_kept_verbatim()
    {
        var rootfs = MountMain();

        var actual = TarListing.Read(rootfs, out _);

        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "special", "special files");
        TarListing.AssertMatches(TarCaseImages.ExpectedMain(), actual, "implicit", "parents with no entry");
        Assert.Equal("/usr/share/tarcase/absolute/target", new FileInfo(Path.Combine(rootfs, "special", "abs")).LinkTarget);
    }

    [Fact]
    public void Mtimes_of_a_file_and_a_directory_come_from_the_tar()
    {
        var rootfs = MountMain();

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(TarCaseImages.DatedFileMtime).UtcDateTime, File.GetLastWriteTimeUtc(Path.Combine(rootfs, "special", "dated")));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(TarCaseImages.DatedDirMtime).UtcDateTime, Directory.GetLastWriteTimeUtc(Path.Combine(rootfs, "special", "dateddir")));
    }

    [Fact]
    public void Run_sees_the_merged_rootfs_of_all_three_layers()
    {
        _cli.Ok("pull", "-q", Image);

        var r = _cli.Ok("run", "--rm", Image, "/bin/busybox", "cat", "/wh/x", "/swap/again");

        Assert.Equal(TarCaseImages.LayerTwoX + TarCaseImages.SwapAgain, r.Stdout);
    }

    /// <summary>Pulls the main image, creates a container with the given storage driver, mounts it; returns the rootfs path.</summary>
    private string MountMain(string? driver = null)
    {
        if (driver is not null)
        {
            _cli.Env["MINIDOCK_STORAGE_DRIVER"] = driver;
        }

        _cli.Ok("pull", "-q", Image);
        var id = _cli.Ok("create", Image).Stdout.Trim();
        var rootfs = _cli.Ok("mount", id).Stdout.Trim();
        Assert.True(Path.IsPathRooted(rootfs) && Directory.Exists(rootfs), $"mount printed '{rootfs}', not a directory");
        return rootfs;
    }

    /// <summary>The layer media types of the manifest the registry serves for REPO:TAG.</summary>
    private string[] PushedLayers(string repoTag) =>
        [.. System.Text.Json.Nodes.JsonNode.Parse(images.Registry.InspectRaw(repoTag))!["layers"]!.AsArray().Select(l => (string)l!["mediaType"]!)];

    private string Getfattr(params string[] args)
    {
        var r = ProcessRunner.Run("getfattr", ["--absolute-names", .. args], TimeSpan.FromSeconds(10));
        output.WriteLine(r.Describe());
        Assert.True(r.ExitCode == 0, "getfattr failed: " + r.Describe());
        return r.Stdout.TrimEnd('\n');
    }
}
