using System.IO.Compression;
using System.Security.Cryptography;
using ZstdSharp;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Opens a layer blob as an uncompressed tar stream according to its media type, and hashes the
/// uncompressed bytes as they are read so that the DiffID (image-spec config.md: "rootfs.diff_ids",
/// the sha256 of the UNCOMPRESSED tar) comes for free with extraction, in one pass.
/// </summary>
public sealed class LayerReader : IDisposable, IAsyncDisposable
{
    private readonly Stream _decompressed;

    private LayerReader(Stream decompressed)
    {
        _decompressed = decompressed;
        Tar = new DiffIdStream(decompressed);
    }

    /// <summary>The uncompressed tar; hashed as it is read.</summary>
    public DiffIdStream Tar { get; }

    /// <summary>
    /// Opens <paramref name="blob"/> (owned: disposed with the reader). Media types are those of
    /// image-spec media-types.md and layer.md (incl. the deprecated non-distributable ones) and Docker's
    /// manifest v2 schema 2. An unknown type is refused rather than guessed: mis-detecting a format would
    /// produce a wrong DiffID that only surfaces later as a config mismatch.
    /// </summary>
    public static LayerReader Open(Stream blob, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentNullException.ThrowIfNull(mediaType);
        Stream s = CompressionOf(mediaType) switch
        {
            LayerCompression.None => blob,
            // GZipStream reads concatenated gzip members, which some layer producers emit.
            LayerCompression.Gzip => new GZipStream(blob, CompressionMode.Decompress, leaveOpen: false),
            // DecompressionStream continues across concatenated frames and skips skippable frames
            // (RFC 8878 §3.1.2), which layer.md's "application/zstd" allows.
            LayerCompression.Zstd => new DecompressionStream(blob, leaveOpen: false),
            _ => throw new NotSupportedException($"unsupported layer media type '{mediaType}': expected tar, tar+gzip or tar+zstd"),
        };
        return new LayerReader(s);
    }

    /// <summary>The compression a layer media type implies, or <see cref="LayerCompression.Unknown"/>.</summary>
    public static LayerCompression CompressionOf(string mediaType) => mediaType switch
    {
        "application/vnd.oci.image.layer.v1.tar"
            or "application/vnd.oci.image.layer.nondistributable.v1.tar"
            or "application/vnd.docker.image.rootfs.diff.tar" => LayerCompression.None,
        "application/vnd.oci.image.layer.v1.tar+gzip"
            or "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            or "application/vnd.docker.image.rootfs.diff.tar.gzip"
            or "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => LayerCompression.Gzip,
        "application/vnd.oci.image.layer.v1.tar+zstd"
            or "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => LayerCompression.Zstd,
        _ => LayerCompression.Unknown,
    };

    /// <summary>Reads what is left to the end (tar padding after the end-of-archive marker counts) and returns the DiffID.</summary>
    public Task<string> GetDiffIdAsync(CancellationToken ct) => Tar.DrainAndGetDiffIdAsync(ct);

    public void Dispose()
    {
        Tar.Dispose();
        _decompressed.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await Tar.DisposeAsync().ConfigureAwait(false);
        await _decompressed.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Layer compressions of image-spec layer.md.</summary>
public enum LayerCompression
{
    Unknown,
    None,
    Gzip,
    Zstd,
}

/// <summary>
/// A read-only pass-through that sha256-hashes every byte read. The DiffID covers the WHOLE uncompressed
/// stream, including the zero blocks after the end-of-archive marker, which TarReader stops before:
/// hence <see cref="DrainAndGetDiffIdAsync"/> reads to EOF first.
/// </summary>
public sealed class DiffIdStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private string? _diffId;

    public DiffIdStream(Stream inner) => _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Uncompressed bytes read so far.</summary>
    public long BytesRead { get; private set; }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        Append(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Append(buffer.Span[..n]);
        return n;
    }

    /// <summary>Reads to EOF and returns "sha256:&lt;hex&gt;"; idempotent.</summary>
    public async Task<string> DrainAndGetDiffIdAsync(CancellationToken ct)
    {
        if (_diffId is not null)
        {
            return _diffId;
        }

        var buf = new byte[81920];
        while (await ReadAsync(buf, ct).ConfigureAwait(false) > 0)
        {
        }

        _diffId = "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());
        return _diffId;
    }

    /// <summary>The synchronous form of <see cref="DrainAndGetDiffIdAsync"/>.</summary>
    public string DrainAndGetDiffId(CancellationToken ct)
    {
        if (_diffId is not null)
        {
            return _diffId;
        }

        var buf = new byte[81920];
        while (Read(buf) > 0)
        {
            ct.ThrowIfCancellationRequested();
        }

        _diffId = "sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset());
        return _diffId;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_diffId is not null && data.Length > 0)
        {
            throw new InvalidOperationException("read after the DiffID was computed");
        }

        _hash.AppendData(data);
        BytesRead += data.Length;
    }
}
