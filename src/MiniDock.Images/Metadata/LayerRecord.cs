using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// One row of <c>layers</c>: layer <see cref="Position"/> (0 = base) of an image. It records both identities a layer
/// has in the image-spec: the compressed blob's digest (what the registry and the content store know) and the
/// DiffID, the digest of the uncompressed tar (what the config's rootfs.diff_ids lists), plus the ChainID that
/// names the snapshot of all layers up to and including this one (config.md, "Layer ChainID").
/// </summary>
[Table("layers")]
public sealed class LayerRecord
{
    /// <summary>The image (config digest) this layer belongs to. Set by <see cref="ImageDb.RecordPull"/>.</summary>
    [Column("image_id")]
    public string ImageId { get; set; } = "";

    /// <summary>0-based index in the manifest's <c>layers</c> array. Set by <see cref="ImageDb.RecordPull"/> from list order.</summary>
    [Column("position")]
    public int Position { get; set; }

    /// <summary>Digest of the blob as stored (usually gzip-compressed).</summary>
    [Column("digest")]
    public string Digest { get; set; } = "";

    /// <summary>The descriptor's media type, which says how to decompress the blob.</summary>
    [Column("media_type")]
    public string MediaType { get; set; } = "";

    /// <summary>Compressed size from the manifest descriptor.</summary>
    [Column("size")]
    public long Size { get; set; }

    /// <summary>Digest of the uncompressed tar stream (config <c>rootfs.diff_ids[position]</c>).</summary>
    [Column("diff_id")]
    public string DiffId { get; set; } = "";

    /// <summary>ChainID of layers 0..position. Computed by <see cref="ImageDb.RecordPull"/>; callers need not set it.</summary>
    [Column("chain_id")]
    public string ChainId { get; set; } = "";
}
