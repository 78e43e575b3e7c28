using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// One row of <c>tags</c>: a fully-qualified reference (e.g. <c>docker.io/library/alpine:latest</c>) pointing at an
/// image ID. The reference is the primary key, so a tag names at most one image, as in Docker; re-pulling moves it.
/// Normalising short names ("alpine") to this form is the caller's job.
/// </summary>
[Table("tags")]
public sealed class TagRecord
{
    /// <summary>The normalised reference string.</summary>
    [PrimaryKey, Column("tag")]
    public string Tag { get; set; } = "";

    /// <summary>The image it points at.</summary>
    [Column("image_id")]
    public string ImageId { get; set; } = "";

    /// <summary>The manifest this tag was pulled as (null for rows from schema v1).</summary>
    [Column("manifest_digest")]
    public string? ManifestDigest { get; set; }
}
