using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Writes one layer tar entry by entry with System.Formats.Tar's <see cref="TarWriter"/>, in the format asked
/// (PAX, GNU or USTAR), so each tar case is spelled out exactly as it goes on the wire: entry order, whiteout
/// and opaque markers, hardlinks, devices, PAX xattrs, long names. Defaults: directories 0755, files 0644,
/// owner 0:0, mtime <see cref="DefaultMtime"/>.
/// </summary>
public sealed class TarLayerWriter
{
    /// <summary>The mtime of every entry that names none (2020-09-13).</summary>
    public const long DefaultMtime = 1_600_000_000;

    private readonly MemoryStream _buffer = new();
    private readonly TarWriter _writer;
    private readonly TarEntryFormat _format;

    public TarLayerWriter(TarEntryFormat format)
    {
        _format = format;
        _writer = new TarWriter(_buffer, format, leaveOpen: true);
    }

    public TarLayerWriter Dir(string path, int mode = 0x1ED, int uid = 0, int gid = 0, long mtime = DefaultMtime, IEnumerable<KeyValuePair<string, string>>? pax = null) =>
        Write(TarEntryType.Directory, path.TrimEnd('/') + "/", mode, uid, gid, mtime, pax);

    public TarLayerWriter File(string path, string content, int mode = 0x1A4, int uid = 0, int gid = 0, long mtime = DefaultMtime, IEnumerable<KeyValuePair<string, string>>? pax = null) =>
        File(path, Encoding.UTF8.GetBytes(content), mode, uid, gid, mtime, pax);

    public TarLayerWriter File(string path, byte[] content, int mode = 0x1A4, int uid = 0, int gid = 0, long mtime = DefaultMtime, IEnumerable<KeyValuePair<string, string>>? pax = null) =>
        Write(TarEntryType.RegularFile, path, mode, uid, gid, mtime, pax, e => e.DataStream = new MemoryStream(content));

    public TarLayerWriter Symlink(string path, string target) =>
        Write(TarEntryType.SymbolicLink, path, 0x1FF, 0, 0, DefaultMtime, null, e => e.LinkName = target);

    public TarLayerWriter HardLink(string path, string target) =>
        Write(TarEntryType.HardLink, path, 0x1A4, 0, 0, DefaultMtime, null, e => e.LinkName = target);

    public TarLayerWriter CharDevice(string path, int major, int minor, int mode, int uid = 0, int gid = 0) =>
        Write(TarEntryType.CharacterDevice, path, mode, uid, gid, DefaultMtime, null, e => SetDevice(e, major, minor));

    public TarLayerWriter BlockDevice(string path, int major, int minor, int mode, int uid = 0, int gid = 0) =>
        Write(TarEntryType.BlockDevice, path, mode, uid, gid, DefaultMtime, null, e => SetDevice(e, major, minor));

    public TarLayerWriter Fifo(string path, int mode) => Write(TarEntryType.Fifo, path, mode, 0, 0, DefaultMtime, null);

    /// <summary>An empty regular file named DIR/.wh.NAME: hides NAME of lower layers.</summary>
    public TarLayerWriter Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        var name = slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
        return File(name, []);
    }

    /// <summary>DIR/.wh..wh..opq: DIR hides every lower entry of its own.</summary>
    public TarLayerWriter Opaque(string dir) => File(dir.TrimEnd('/') + "/.wh..wh..opq", []);

    /// <summary>The finished, uncompressed tar (the writer cannot be used afterwards).</summary>
    public byte[] ToArray()
    {
        _writer.Dispose();
        return _buffer.ToArray();
    }

    private static void SetDevice(TarEntry entry, int major, int minor)
    {
        var p = (PosixTarEntry)entry;
        p.DeviceMajor = major;
        p.DeviceMinor = minor;
    }

    private TarLayerWriter Write(TarEntryType type, string name, int mode, int uid, int gid, long mtime, IEnumerable<KeyValuePair<string, string>>? pax, Action<TarEntry>? fill = null)
    {
        TarEntry entry = _format switch
        {
            TarEntryFormat.Pax => pax is null ? new PaxTarEntry(type, name) : new PaxTarEntry(type, name, pax),
            TarEntryFormat.Gnu when pax is null => new GnuTarEntry(type, name),
            TarEntryFormat.Ustar when pax is null => new UstarTarEntry(type, name),
            _ => throw new ArgumentException($"{_format} cannot carry PAX records ({name})", nameof(pax)),
        };
        entry.Mode = (UnixFileMode)mode;
        entry.Uid = uid;
        entry.Gid = gid;
        entry.ModificationTime = DateTimeOffset.FromUnixTimeSeconds(mtime);
        fill?.Invoke(entry);
        _writer.WriteEntry(entry);
        return this;
    }
}

/// <summary>How a layer blob is compressed in the hand-made layout.</summary>
public enum TarLayerCompression
{
    Gzip,
    Zstd,
    None,
}

/// <summary>
/// A hand-made OCI image layout (oci-layout, index.json, blobs/sha256): layer blobs compressed as asked,
/// the config with its DiffIDs, one OCI manifest per image, tagged by "org.opencontainers.image.ref.name".
/// Nothing here comes from umoci or MiniDock.
/// </summary>
public sealed class HandMadeLayout
{
    private readonly string _workDir;
    private readonly JsonArray _index = [];

    public HandMadeLayout(string dir, string workDir)
    {
        Dir = dir;
        _workDir = workDir;
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        System.IO.File.WriteAllText(Path.Combine(dir, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        WriteIndex();
    }

    public string Dir { get; }

    /// <summary>"amd64" or "arm64": the host's, since layer 1 of the main image carries the host's busybox.</summary>
    public static string HostArchitecture => System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        var a => throw new PlatformNotSupportedException($"no OCI architecture name for {a}"),
    };

    /// <summary>Adds an image of the given uncompressed layers under TAG; returns the manifest's exact bytes.</summary>
    public byte[] AddImage(string tag, IReadOnlyList<(byte[] Tar, TarLayerCompression Compression)> layers)
    {
        var layerDescriptors = new JsonArray();
        var diffIds = new JsonArray();
        var history = new JsonArray();
        foreach (var (tar, compression) in layers)
        {
            var (blob, mediaType) = compression switch
            {
                TarLayerCompression.Gzip => (Gzip(tar), MediaTypes.OciLayerGzip),
                TarLayerCompression.Zstd => (Zstd(tar), MediaTypes.OciLayerZstd),
                _ => (tar, "application/vnd.oci.image.layer.v1.tar"),
            };
            layerDescriptors.Add(Descriptor(mediaType, AddBlob(blob), blob.Length));
            diffIds.Add(RegistryImages.Sha256Digest(tar));
            history.Add(new JsonObject { ["created_by"] = $"TarLayerWriter ({compression})", ["created"] = "2020-09-13T12:26:40Z" });
        }

        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = HostArchitecture,
            ["os"] = "linux",
            ["created"] = "2020-09-13T12:26:40Z",
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/bin"),
                ["Cmd"] = new JsonArray("/bin/busybox", "sh"),
                ["WorkingDir"] = "/",
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
            ["history"] = history,
        }.ToJsonString());

        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = Descriptor(MediaTypes.OciConfig, AddBlob(config), config.Length),
            ["layers"] = layerDescriptors,
        }.ToJsonString());

        var entry = Descriptor(MediaTypes.OciManifest, AddBlob(manifest), manifest.Length);
        entry["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        _index.Add(entry);
        WriteIndex();
        return manifest;
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };

    private string AddBlob(byte[] bytes)
    {
        var digest = RegistryImages.Sha256Digest(bytes);
        System.IO.File.WriteAllBytes(Path.Combine(Dir, "blobs", "sha256", RegistryFixture.Hex(digest)), bytes);
        return digest;
    }

    private void WriteIndex() =>
        System.IO.File.WriteAllText(Path.Combine(Dir, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = _index.DeepClone(),
        }.ToJsonString());

    private static byte[] Gzip(byte[] tar)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(tar);
        }

        return ms.ToArray();
    }

    /// <summary>The zstd CLI, as a real producer would use it.</summary>
    private byte[] Zstd(byte[] tar)
    {
        var input = Path.Combine(_workDir, $"layer-{Guid.NewGuid():N}.tar");
        var output = input + ".zst";
        System.IO.File.WriteAllBytes(input, tar);
        try
        {
            var r = ProcessRunner.Run("zstd", ["-q", "-f", "-3", input, "-o", output], RegistryFixture.CommandTimeout, ioDir: _workDir);
            if (r.ExitCode != 0)
            {
                throw new InvalidOperationException("zstd failed (apt-get install -y zstd): " + r.Describe());
            }

            return System.IO.File.ReadAllBytes(output);
        }
        finally
        {
            System.IO.File.Delete(input);
            System.IO.File.Delete(output);
        }
    }
}

/// <summary>sha256 hex helpers for expected listings.</summary>
public static class TarHash
{
    /// <summary>The first 16 hex digits of the sha256: enough to tell contents apart in a listing line.</summary>
    public static string Short(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
}

/// <summary>One raw 512-byte tar header as it is on the wire, with the data block(s) that follow it.</summary>
public sealed record TarRawHeader(char TypeFlag, string Name, string Prefix, string Magic, byte UidFieldFirstByte, byte[] Data);

/// <summary>Walks a tar's raw headers (no interpretation of PAX or GNU records): proof of what the writer produced.</summary>
public static class TarRawHeaders
{
    public static IReadOnlyList<TarRawHeader> Read(byte[] tar)
    {
        var list = new List<TarRawHeader>();
        var at = 0;
        while (at + 512 <= tar.Length && tar.AsSpan(at, 512).ContainsAnyExcept((byte)0))
        {
            var h = tar.AsSpan(at, 512);
            var size = Convert.ToInt64(Encoding.ASCII.GetString(h.Slice(124, 12)).Trim('\0', ' ') is { Length: > 0 } s ? s : "0", 8);
            list.Add(new TarRawHeader(
                (char)h[156],
                Field(h.Slice(0, 100)),
                Field(h.Slice(345, 155)),
                Encoding.ASCII.GetString(h.Slice(257, 8)),
                h[108],
                tar.AsSpan(at + 512, (int)size).ToArray()));
            at += 512 + (int)((size + 511) / 512 * 512);
        }

        return list;
    }

    private static string Field(ReadOnlySpan<byte> f)
    {
        var end = f.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? f : f[..end]);
    }
}
