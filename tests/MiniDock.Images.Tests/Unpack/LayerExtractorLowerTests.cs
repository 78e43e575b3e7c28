using System.Formats.Tar;
using MiniDock.Images.Unpack;
using MiniDock.Native;

namespace MiniDock.Images.Tests.Unpack;

/// <summary>Hardlinks to files of lower layers, and errors that name the entry they stopped at.</summary>
public sealed class LayerExtractorLowerTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private string Dir(string name) => Path.Combine(_tmp.Path, name);

    [Fact]
    public async Task Hardlink_ToAFileOfALowerLayer_IsLinkedIntoThisLayer()
    {
        await Extract("l1", w => w.File("base/file", "lower\n"));
        var calls = 0;

        await Extract("l2", w => w.Dir("base").Link("base/link", "base/file"), _ =>
        {
            calls++;
            return [Dir("l1")];
        });

        Assert.Equal(1, calls);
        Assert.Equal("lower\n", await File.ReadAllTextAsync(Path.Combine(Dir("l2"), "base/link")));
        Assert.Equal(FsAt.LStat(Path.Combine(Dir("l1"), "base/file"))!.Value.Ino, FsAt.LStat(Path.Combine(Dir("l2"), "base/link"))!.Value.Ino);
        Assert.Null(FsAt.LStat(Path.Combine(Dir("l2"), "base/file")));
    }

    [Fact]
    public async Task Hardlink_NearestLowerLayerWins()
    {
        await Extract("l1", w => w.File("f", "oldest\n"));
        await Extract("l2", w => w.File("f", "nearest\n"));

        await Extract("l3", w => w.Link("g", "f"), _ => [Dir("l2"), Dir("l1")]);

        Assert.Equal("nearest\n", await File.ReadAllTextAsync(Path.Combine(Dir("l3"), "g")));
    }

    [Fact]
    public async Task Hardlink_WithinTheLayer_NeverAsksForTheLowerLayers()
    {
        await Extract("l2", w => w.File("f", "here\n").Link("g", "f"), _ => throw new InvalidOperationException("asked"));

        Assert.Equal("here\n", await File.ReadAllTextAsync(Path.Combine(Dir("l2"), "g")));
    }

    [Fact]
    public async Task Hardlink_ToAFileWhitedOutInBetween_IsNotFound()
    {
        await Extract("l1", w => w.File("base/file", "lower\n"));
        await Extract("l2", w => w.Whiteout("base/file"));

        var e = await Assert.ThrowsAsync<SysException>(() => Extract("l3", w => w.Link("link", "base/file"), _ => [Dir("l2"), Dir("l1")]));

        Assert.Contains("entry \"link\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("not in this layer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hardlink_BelowAnOpaqueDirectory_IsNotFound()
    {
        await Extract("l1", w => w.File("base/file", "lower\n"));
        await Extract("l2", w => w.File("base/.wh..wh..opq", string.Empty));

        await Assert.ThrowsAsync<SysException>(() => Extract("l3", w => w.Link("link", "base/file"), _ => [Dir("l2"), Dir("l1")]));
        Assert.Null(FsAt.LStat(Path.Combine(Dir("l3"), "link")));
    }

    [Fact]
    public async Task Hardlink_ThroughASymlinkOfALowerLayer_DoesNotLeaveIt()
    {
        await Extract("l1", w => w.Symlink("root", "/"));

        // "root/etc/passwd" through the lower layer's symlink would be the host's /etc/passwd.
        await Assert.ThrowsAsync<SysException>(() => Extract("l2", w => w.Link("passwd", "root/etc/passwd"), _ => [Dir("l1")]));
        Assert.Null(FsAt.LStat(Path.Combine(Dir("l2"), "passwd")));
    }

    [Fact]
    public async Task Errors_NameTheEntry_OnOneLine()
    {
        var e = await Assert.ThrowsAsync<SysException>(() => Extract("l1", w => w.Symlink("link", "/nonexistent-dir").File("link/pw\tned", "x")));

        Assert.StartsWith("entry \"link/pw\\x09ned\": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\t', e.Message);
    }

    private Task<string> Extract(string dir, Action<Builder> entries, Func<CancellationToken, IReadOnlyList<string>>? lowers = null)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            entries(new Builder(w));
        }

        ms.Position = 0;
        return new LayerExtractor().ExtractAsync(ms, Dir(dir), lowers, CancellationToken.None);
    }

    private sealed class Builder(TarWriter w)
    {
        public Builder File(string name, string content)
        {
            var e = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
            w.WriteEntry(e);
            return this;
        }

        public Builder Dir(string name)
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0x1ED });
            return this;
        }

        public Builder Link(string name, string target)
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, name) { LinkName = target });
            return this;
        }

        public Builder Symlink(string name, string target)
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = target });
            return this;
        }

        public Builder Whiteout(string name)
        {
            var slash = name.LastIndexOf('/');
            return File(slash < 0 ? ".wh." + name : name[..(slash + 1)] + ".wh." + name[(slash + 1)..], string.Empty);
        }
    }
}

/// <summary>PAX xattr values that are not UTF-8, recovered from the raw header bytes.</summary>
public sealed class LayerExtractorBinaryXattrTests : IDisposable
{
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task SecurityCapability_ThatIsNotUtf8_IsKeptByteForByte()
    {
        byte[] cap = [0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        var placeholder = (byte[])cap.Clone();
        placeholder[4] = 0x7E;
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            var e = new PaxTarEntry(TarEntryType.RegularFile, "bin/tool", [new("SCHILY.xattr.security.capability", System.Text.Encoding.Latin1.GetString(placeholder))])
            {
                Mode = (UnixFileMode)0x1ED,
                DataStream = new MemoryStream("x"u8.ToArray()),
            };
            w.WriteEntry(e);
        }

        var tar = ms.ToArray();
        var record = System.Text.Encoding.ASCII.GetBytes("SCHILY.xattr.security.capability=").Concat(placeholder).ToArray();
        var at = tar.AsSpan().IndexOf(record);
        Assert.True(at >= 0);
        tar[at + record.Length - placeholder.Length + 4] = 0x80;
        var layer = Path.Combine(_tmp.Path, "layer");

        await new LayerExtractor().ExtractAsync(new MemoryStream(tar), layer, CancellationToken.None);

        Assert.Equal(cap, FsAt.LGetXattr(Path.Combine(layer, "bin/tool"), "security.capability"));
    }

    [Fact]
    public void RawPaxValue_TakesTheLastWellFormedRecord()
    {
        var headers = System.Text.Encoding.Latin1.GetBytes("8 a=\u0080\u00ff\u0001\n7 a=\u0001\u0002\n");

        Assert.Equal(new byte[] { 1, 2 }, LayerExtractor.RawPaxValue(headers, "a"));
        Assert.Null(LayerExtractor.RawPaxValue(headers, "b"));
        Assert.Null(LayerExtractor.RawPaxValue("99 a=x\n"u8, "a"));
    }
}
