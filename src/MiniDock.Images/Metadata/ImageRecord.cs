using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// One row of <c>images</c>: a pulled, platform-specific image. Its identity is the config digest, as in Docker
/// ("image ID"), because the config (image-spec config.md) is what determines the root file system (via its
/// DiffIDs) and the run defaults; the same config can arrive via different manifests (e.g. a re-compressed push).
/// </summary>
/// <remarks>A plain mutable class because sqlite-net-pcl maps rows by property setters.</remarks>
[Table("images")]
public sealed class ImageRecord
{
    /// <summary>Config digest, <c>sha256:&lt;hex&gt;</c>: the image ID.</summary>
    [PrimaryKey, Column("id")]
    public string Id { get; set; } = "";

    /// <summary>Digest of the platform manifest (image-spec manifest.md) that named this config.</summary>
    [Column("manifest_digest")]
    public string ManifestDigest { get; set; } = "";

    /// <summary>Media type of that manifest (OCI or Docker schema 2), kept so it can be served back or re-pushed byte-exact.</summary>
    [Column("manifest_media_type")]
    public string ManifestMediaType { get; set; } = "";

    /// <summary>Digest of the image index / manifest list the manifest was chosen from, when the pull went through one.</summary>
    [Column("index_digest")]
    public string? IndexDigest { get; set; }

    /// <summary>The config's <c>created</c> field (RFC 3339) verbatim; null when the config has none (it is optional).</summary>
    [Column("created")]
    public string? Created { get; set; }

    /// <summary>Sum of the compressed layer sizes plus the config size, as Docker reports it. Supplied by the caller.</summary>
    [Column("size")]
    public long Size { get; set; }

    /// <summary>Config <c>os</c>.</summary>
    [Column("os")]
    public string Os { get; set; } = "";

    /// <summary>Config <c>architecture</c>.</summary>
    [Column("architecture")]
    public string Architecture { get; set; } = "";

    /// <summary>Config <c>variant</c> (e.g. v8 for arm64), when present.</summary>
    [Column("variant")]
    public string? Variant { get; set; }
}
