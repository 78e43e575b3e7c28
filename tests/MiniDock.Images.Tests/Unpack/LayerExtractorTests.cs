using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using MiniDock.Images.Unpack;
using MiniDock.Native;
using ZstdSharp;

namespace MiniDock.Images.Tests.Unpack;

/// <summary>Layer extraction in overlay form, run as root against real tars built with TarWriter.</summary>
public sealed class LayerExtractorTests : IDisposable
{
    private static readonly DateTimeOffset Mtime = new(2021, 3, 4, 5, 6, 7, TimeSpan.Zero);
    private readonly TempDir _tmp = new();

    private string Layer => Path.Combine(_tmp.Path, "layer");

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Ustar)]
    public async Task RegularFile_KeepsContentModeSetuidOwnerAndMtime(TarEntryFormat format)
    {
        var tar = Tar(format, w =>
        {
            w.WriteEntry(File(format, "bin/tool", "hello", 0x9ED /* 04755 */, 1000, 2000));
            w.WriteEntry(File(format, "tmpdir/sticky", "x", 0xFFF /* 07777 */, 0, 0));
        });

        await ExtractAsync(tar);

        var st = Stat("bin/tool");
        Assert.Equal(0x8000u | 0x9ED, st.Mode);
        Assert.Equal(1000u, st.Uid);
        Assert.Equal(2000u, st.Gid);
        Assert.Equal(Mtime.ToUnixTimeSeconds(), st.MtimeSec);
        Assert.Equal("hello", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "bin/tool")));
        Assert.Equal(0xFFFu, Stat("tmpdir/sticky").Mode & 0xFFF);
    }

    [Fact]
    public async Task MissingParents_AreCreated0755Root()
    {
        await ExtractAsync(Tar(TarEntryFormat.Pax, w => w.WriteEntry(File(TarEntryFormat.Pax, "a/b/c/f", "x", 0x1A4, 7, 7))));

        foreach (var d in new[] { "a", "a/b", "a/b/c" })
        {
            var st = Stat(d);
            Assert.True(st.IsDir);
            Assert.Equal(0x1EDu, st.Mode & 0xFFF);
            Assert.Equal(0u, st.Uid);
            Assert.Equal(0u, st.Gid);
        }
    }

    [Fact]
    public async Task RootEntry_AndPaxGlobalHeader_AreHandled()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = "git" }));
            w.WriteEntry(Dir(TarEntryFormat.Pax, "./", 0x1ED, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "./f", "x", 0x1A4, 0, 0));
        });

        await ExtractAsync(tar);

        var root = FsAt.LStat(Layer)!.Value;
        Assert.Equal(0x1EDu, root.Mode & 0xFFF);
        Assert.Equal(Mtime.ToUnixTimeSeconds(), root.MtimeSec);
        Assert.Equal(["f"], Directory.EnumerateFileSystemEntries(Layer).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ExistingDirectory_OnlyGetsNewAttributes()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(Dir(TarEntryFormat.Pax, "d", 0x1C0, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "d/keep", "k", 0x1A4, 0, 0));
            w.WriteEntry(Dir(TarEntryFormat.Pax, "d", 0x1E8 /* 0750 */, 5, 6));
        });

        await ExtractAsync(tar);

        var st = Stat("d");
        Assert.Equal(0x1E8u, st.Mode & 0xFFF);
        Assert.Equal(5u, st.Uid);
        Assert.Equal(Mtime.ToUnixTimeSeconds(), st.MtimeSec);
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, "d/keep")));
    }

    [Fact]
    public async Task Symlink_AbsoluteTargetKeptVerbatim_WithOwner()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "etc/localtime") { LinkName = "/usr/share/zoneinfo/UTC", Uid = 3, Gid = 4, ModificationTime = Mtime }));

        await ExtractAsync(tar);

        var st = Stat("etc/localtime");
        Assert.True(st.IsSymlink);
        Assert.Equal(3u, st.Uid);
        Assert.Equal(4u, st.Gid);
        Assert.Equal("/usr/share/zoneinfo/UTC", new FileInfo(Path.Combine(Layer, "etc/localtime")).LinkTarget);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public async Task Hardlink_SharesInode(TarEntryFormat format)
    {
        var tar = Tar(format, w =>
        {
            w.WriteEntry(File(format, "usr/bin/a", "same", 0x1ED, 0, 0));
            w.WriteEntry(Link(format, TarEntryType.HardLink, "usr/bin/b", "usr/bin/a"));
            w.WriteEntry(Link(format, TarEntryType.HardLink, "c", "/usr/bin/a"));
        });

        await ExtractAsync(tar);

        Assert.Equal(Stat("usr/bin/a").Ino, Stat("usr/bin/b").Ino);
        Assert.Equal(Stat("usr/bin/a").Ino, Stat("c").Ino);
        Assert.Equal(3ul, Stat("usr/bin/a").Nlink);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Ustar)]
    public async Task Devices_AndFifo_AreMknoded(TarEntryFormat format)
    {
        var tar = Tar(format, w =>
        {
            w.WriteEntry(Dev(format, TarEntryType.CharacterDevice, "dev/null", 1, 3));
            w.WriteEntry(Dev(format, TarEntryType.BlockDevice, "dev/loop0", 7, 0));
            w.WriteEntry(Dev(format, TarEntryType.Fifo, "run/fifo", 0, 0));
        });

        await ExtractAsync(tar);

        var n = Stat("dev/null");
        Assert.Equal(0x2000u, n.Type);
        Assert.Equal((1u, 3u), (n.Major, n.Minor));
        Assert.Equal(0x1B6u, n.Mode & 0xFFF);
        var b = Stat("dev/loop0");
        Assert.Equal(0x6000u, b.Type);
        Assert.Equal((7u, 0u), (b.Major, b.Minor));
        Assert.Equal(0x1000u, Stat("run/fifo").Type);
        Assert.Equal("character special file 1:3", StatTool("dev/null"));
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public async Task LongNames_AndLongLinkNames(TarEntryFormat format)
    {
        var longDir = string.Join('/', Enumerable.Repeat("directory-with-a-long-name", 8));
        var longTarget = "/" + longDir + "/target-file";
        var tar = Tar(format, w =>
        {
            w.WriteEntry(File(format, longDir + "/target-file", "t", 0x1A4, 0, 0));
            w.WriteEntry(Link(format, TarEntryType.SymbolicLink, "short", longTarget));
            w.WriteEntry(Link(format, TarEntryType.HardLink, longDir + "/hard", longDir + "/target-file"));
        });

        await ExtractAsync(tar);

        Assert.Equal("t", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, longDir, "target-file")));
        Assert.Equal(longTarget, new FileInfo(Path.Combine(Layer, "short")).LinkTarget);
        Assert.Equal(Stat(longDir + "/target-file").Ino, Stat(longDir + "/hard").Ino);
    }

    [Fact]
    public async Task PaxXattrs_AppliedAfterChownAndChmod_IncludingCapability()
    {
        // VFS v2 capability: magic 0x02000002, permitted = CAP_NET_BIND_SERVICE (bit 10), effective flag set.
        byte[] cap = [0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var attrs = new Dictionary<string, string>
        {
            ["SCHILY.xattr.security.capability"] = System.Text.Encoding.UTF8.GetString(cap),
            ["SCHILY.xattr.user.note"] = "hi",
            ["LIBARCHIVE.xattr.trusted.b64"] = Convert.ToBase64String([0xFF, 0x00, 0x80]).TrimEnd('='),
        };
        var tar = Tar(TarEntryFormat.Pax, w =>
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/ping", attrs)
            {
                Mode = (UnixFileMode)0x9ED,
                Uid = 1000,
                Gid = 1000,
                ModificationTime = Mtime,
                DataStream = new MemoryStream([1, 2, 3]),
            }));

        await ExtractAsync(tar);

        var p = Path.Combine(Layer, "bin/ping");
        Assert.Equal(cap, FsAt.LGetXattr(p, "security.capability"));
        Assert.Equal("hi"u8.ToArray(), FsAt.LGetXattr(p, "user.note"));
        Assert.Equal(new byte[] { 0xFF, 0x00, 0x80 }, FsAt.LGetXattr(p, "trusted.b64"));
        var st = Stat("bin/ping");
        Assert.Equal(0x9EDu, st.Mode & 0xFFF); // setuid survived the chown
        Assert.Equal(1000u, st.Uid);
    }

    [Fact]
    public async Task Whiteout_BecomesCharDevice00_InOverlayForm()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(File(TarEntryFormat.Pax, "etc/.wh.gone", string.Empty, 0, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, ".wh.top", string.Empty, 0, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal("character special file 0:0", StatTool("etc/gone"));
        Assert.Equal("character special file 0:0", StatTool("top"));
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "etc/.wh.gone")));
        Assert.Equal(0x1EDu, Stat("etc").Mode & 0xFFF);
    }

    [Fact]
    public async Task Whiteout_NeverHidesEntriesOfItsOwnLayer()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(File(TarEntryFormat.Pax, "keep", "k", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, ".wh.keep", string.Empty, 0, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.Equal("k", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "keep")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Opaque_SetsOverlayXattr_WhereverItSits(bool markerFirst)
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            if (markerFirst)
            {
                w.WriteEntry(File(TarEntryFormat.Pax, "opt/app/.wh..wh..opq", string.Empty, 0, 0, 0));
            }

            w.WriteEntry(Dir(TarEntryFormat.Pax, "opt/app", 0x1ED, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "opt/app/new", "n", 0x1A4, 0, 0));
            if (!markerFirst)
            {
                w.WriteEntry(File(TarEntryFormat.Pax, "opt/app/.wh..wh..opq", string.Empty, 0, 0, 0));
            }
        });

        await ExtractAsync(tar);

        Assert.Equal("y"u8.ToArray(), FsAt.LGetXattr(Path.Combine(Layer, "opt/app"), "trusted.overlay.opaque"));
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, "opt/app/new")));
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "opt/app/.wh..wh..opq")));
        Assert.Equal("y", Getfattr(Path.Combine(Layer, "opt/app")));
    }

    [Fact]
    public async Task Replace_FileOverSymlink_NeverWritesThroughIt()
    {
        var outside = Path.Combine(_tmp.Path, "outside-target");
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.SymbolicLink, "x", outside));
            w.WriteEntry(File(TarEntryFormat.Pax, "x", "data", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "d/inner", "i", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "d", "now a file", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "f", "old", 0x1A4, 0, 0));
            w.WriteEntry(Dir(TarEntryFormat.Pax, "f", 0x1ED, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.False(System.IO.File.Exists(outside));
        Assert.False(Stat("x").IsSymlink);
        Assert.Equal("data", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "x")));
        Assert.Equal("now a file", await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "d")));
        Assert.True(Stat("f").IsDir);
    }

    [Fact]
    public async Task Hostile_DotDotAndAbsoluteNames_AreContained()
    {
        var id = Guid.NewGuid().ToString("N");
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(File(TarEntryFormat.Pax, $"../../escape-{id}", "x", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, $"/abs-{id}/x", "x", 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, $"a/../../../../etc-{id}/x", "x", 0x1A4, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.True(System.IO.File.Exists(Path.Combine(Layer, $"escape-{id}")));
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, $"abs-{id}/x")));
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, $"etc-{id}/x")));
        Assert.False(System.IO.File.Exists(Path.Combine(_tmp.Path, $"escape-{id}")));
        Assert.False(System.IO.File.Exists(Path.Combine(Path.GetTempPath(), $"escape-{id}")));
        Assert.False(Directory.Exists($"/abs-{id}"));
        Assert.False(Directory.Exists($"/etc-{id}"));
        Assert.Equal(["layer"], Directory.EnumerateFileSystemEntries(_tmp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Hostile_SymlinkToRoot_ThenFileThroughIt_StaysInside()
    {
        var id = Guid.NewGuid().ToString("N");
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.SymbolicLink, "evil", "/"));
            w.WriteEntry(File(TarEntryFormat.Pax, $"evil/tmp/pwned-{id}", "pwned", 0x1A4, 0, 0));
            w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.SymbolicLink, "up", "../../.."));
            w.WriteEntry(File(TarEntryFormat.Pax, $"up/tmp/pwned2-{id}", "pwned", 0x1A4, 0, 0));
        });

        await ExtractAsync(tar);

        Assert.False(System.IO.File.Exists($"/tmp/pwned-{id}"));
        Assert.False(System.IO.File.Exists($"/tmp/pwned2-{id}"));
        Assert.True(Stat("evil").IsSymlink);
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, $"tmp/pwned-{id}")));
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, $"tmp/pwned2-{id}")));
    }

    [Fact]
    public async Task Hostile_HardlinkOutside_IsRefused()
    {
        var outside = Path.Combine(_tmp.Path, "outside");
        await System.IO.File.WriteAllTextAsync(outside, "secret");
        var tar = Tar(TarEntryFormat.Pax, w => w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.HardLink, "steal", "../../outside")));

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ExtractAsync(tar));

        Assert.Contains("outside the layer", ex.Message, StringComparison.Ordinal);
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "steal")));
        Assert.Equal(1ul, FsAt.LStat(outside)!.Value.Nlink);
    }

    [Fact]
    public async Task Hostile_HardlinkThroughSymlinkedDir_CannotReachOutside()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.SymbolicLink, "root", "/"));
            w.WriteEntry(Link(TarEntryFormat.Pax, TarEntryType.HardLink, "shadow", "root/etc/shadow"));
        });

        // "root/etc/shadow" resolves to <layer>/etc/shadow, which does not exist: an error, never the host file.
        await Assert.ThrowsAsync<SysException>(() => ExtractAsync(tar));
        Assert.Null(FsAt.LStat(Path.Combine(Layer, "shadow")));
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.v1.tar")]
    [InlineData("application/vnd.oci.image.layer.v1.tar+gzip")]
    [InlineData("application/vnd.docker.image.rootfs.diff.tar.gzip")]
    [InlineData("application/vnd.oci.image.layer.v1.tar+zstd")]
    public async Task DiffId_IsSha256OfUncompressedTar(string mediaType)
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            w.WriteEntry(File(TarEntryFormat.Pax, "a", new string('a', 5000), 0x1A4, 0, 0));
            w.WriteEntry(File(TarEntryFormat.Pax, "b", "b", 0x1A4, 0, 0));
        });
        var blob = LayerReader.CompressionOf(mediaType) switch
        {
            LayerCompression.Gzip => Gzip(tar),
            LayerCompression.Zstd => Zstd(tar),
            _ => tar,
        };

        var diffId = await ExtractBlobAsync(blob, mediaType);

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar)), diffId);
        Assert.True(System.IO.File.Exists(Path.Combine(Layer, "b")));
    }

    [Fact]
    public async Task DiffId_Zstd_MultipleFramesAndSkippableFrame()
    {
        var tar = Tar(TarEntryFormat.Pax, w =>
        {
            for (var i = 0; i < 20; i++)
            {
                w.WriteEntry(File(TarEntryFormat.Pax, $"f{i}", new string((char)('a' + i), 3000), 0x1A4, 0, 0));
            }
        });
        var half = tar.Length / 2 + 123; // split mid-block on purpose
        byte[] skippable = [0x5A, 0x2A, 0x4D, 0x18, 5, 0, 0, 0, 1, 2, 3, 4, 5];
        var blob = Zstd(tar[..half]).Concat(skippable).Concat(Zstd(tar[half..])).Concat(skippable).ToArray();

        var diffId = await ExtractBlobAsync(blob, "application/vnd.oci.image.layer.v1.tar+zstd");

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar)), diffId);
        Assert.Equal(new string('t', 3000), await System.IO.File.ReadAllTextAsync(Path.Combine(Layer, "f19")));
    }

    [Fact]
    public async Task DiffId_Gzip_ConcatenatedMembers()
    {
        var tar = Tar(TarEntryFormat.Gnu, w => w.WriteEntry(File(TarEntryFormat.Gnu, "x", new string('x', 4000), 0x1A4, 0, 0)));
        var blob = Gzip(tar[..1000]).Concat(Gzip(tar[1000..])).ToArray();

        var diffId = await ExtractBlobAsync(blob, "application/vnd.oci.image.layer.v1.tar+gzip");

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar)), diffId);
    }

    [Fact]
    public void UnknownMediaType_IsAClearError()
    {
        var ex = Assert.Throws<NotSupportedException>(() => LayerReader.Open(new MemoryStream(), "application/vnd.oci.image.layer.v1.tar+bzip2"));
        Assert.Contains("tar+bzip2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DiffId_WithoutReader_HashesRawTar_IncludingTrailingPadding()
    {
        var tar = Tar(TarEntryFormat.Ustar, w => w.WriteEntry(File(TarEntryFormat.Ustar, "a", "1", 0x1A4, 0, 0)));
        var padded = tar.Concat(new byte[10240]).ToArray();

        var diffId = await new LayerExtractor().ExtractAsync(new MemoryStream(padded), Layer, CancellationToken.None);

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(padded)), diffId);
    }

    private static byte[] Tar(TarEntryFormat format, Action<TarWriter> write)
    {
        _ = format;
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            write(w);
        }

        return ms.ToArray();
    }

    private static TarEntry New(TarEntryFormat format, TarEntryType type, string name) => format switch
    {
        TarEntryFormat.Pax => new PaxTarEntry(type, name),
        TarEntryFormat.Gnu => new GnuTarEntry(type, name),
        TarEntryFormat.Ustar => new UstarTarEntry(type, name),
        _ => new V7TarEntry(type, name),
    };

    private static TarEntry File(TarEntryFormat format, string name, string content, int mode, int uid, int gid)
    {
        var e = New(format, format == TarEntryFormat.V7 ? TarEntryType.V7RegularFile : TarEntryType.RegularFile, name);
        e.Mode = (UnixFileMode)mode;
        e.Uid = uid;
        e.Gid = gid;
        e.ModificationTime = Mtime;
        e.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
        return e;
    }

    private static TarEntry Dir(TarEntryFormat format, string name, int mode, int uid, int gid)
    {
        var e = New(format, TarEntryType.Directory, name);
        e.Mode = (UnixFileMode)mode;
        e.Uid = uid;
        e.Gid = gid;
        e.ModificationTime = Mtime;
        return e;
    }

    private static TarEntry Link(TarEntryFormat format, TarEntryType type, string name, string target)
    {
        var e = New(format, type, name);
        e.LinkName = target;
        e.ModificationTime = Mtime;
        return e;
    }

    private static TarEntry Dev(TarEntryFormat format, TarEntryType type, string name, int major, int minor)
    {
        var e = (PosixTarEntry)New(format, type, name);
        e.Mode = (UnixFileMode)0x1B6;
        if (type != TarEntryType.Fifo)
        {
            e.DeviceMajor = major;
            e.DeviceMinor = minor;
        }

        e.ModificationTime = Mtime;
        return e;
    }

    private static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return ms.ToArray();
    }

    private static byte[] Zstd(byte[] data)
    {
        using var c = new Compressor(3);
        return c.Wrap(data).ToArray();
    }

    /// <summary>An independent reader of the xattr (attr's getfattr; `make test` installs it).</summary>
    private static string? Getfattr(string path)
    {
        Assert.True(System.IO.File.Exists("/usr/bin/getfattr"), "getfattr missing: apt-get install attr (make test does)");

        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/getfattr", ["--only-values", "-n", "trusted.overlay.opaque", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var s = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return s;
    }

    private async Task ExtractAsync(byte[] tar)
        => await new LayerExtractor().ExtractAsync(new MemoryStream(tar), Layer, CancellationToken.None);

    private async Task<string> ExtractBlobAsync(byte[] blob, string mediaType)
    {
        await using var reader = LayerReader.Open(new MemoryStream(blob), mediaType);
        return await new LayerExtractor().ExtractAsync(reader.Tar, Layer, CancellationToken.None);
    }

    private StatInfo Stat(string rel) => FsAt.LStat(Path.Combine(Layer, rel)) ?? throw new FileNotFoundException(rel);

    private string StatTool(string rel)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/stat", ["-c", "%F %t:%T", Path.Combine(Layer, rel)]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var s = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return s;
    }
}
