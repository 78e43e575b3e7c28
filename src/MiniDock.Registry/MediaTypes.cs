namespace MiniDock.Registry;

/// <summary>A content descriptor (image-spec descriptor.md): what a manifest points at.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size, Platform? Platform = null);

/// <summary>
/// The media types MiniDock understands (image-spec media-types.md, Docker "Image Manifest V2, Schema 2").
/// </summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string OciLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerForeignGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /// <summary>
    /// Every manifest type at once: distribution 2.8 answers 404 for an OCI tag when Accept lacks the OCI
    /// types, and down-converts to schema1 when Accept is empty (shared/spec-pitfalls.md, Registry).
    /// </summary>
    public static readonly string AcceptManifests = string.Join(", ", OciIndex, OciManifest, DockerManifestList, DockerManifest);

    /// <summary>How a layer's bytes are compressed; Unknown for anything that is not a layer we can apply.</summary>
    public enum Compression
    {
        Unknown,
        None,
        Gzip,
        Zstd,
    }

    /// <summary>True for an image manifest (one platform), false for indexes and anything else.</summary>
    public static bool IsManifest(string mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>True for a multi-platform index / manifest list.</summary>
    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>True for schema1, which MiniDock refuses (deprecated, signed with keys nobody checks).</summary>
    public static bool IsSchema1(string mediaType) => mediaType is DockerSchema1 or DockerSchema1Signed;

    /// <summary>True for every layer type we can unpack (image-spec layer.md, incl. non-distributable).</summary>
    public static bool IsLayer(string mediaType) => CompressionOf(mediaType) != Compression.Unknown;

    /// <summary>The compression a layer media type implies.</summary>
    public static Compression CompressionOf(string mediaType) => mediaType switch
    {
        OciLayerTar or OciLayerNondistributableTar => Compression.None,
        OciLayerGzip or OciLayerNondistributableGzip or DockerLayerGzip or DockerLayerForeignGzip => Compression.Gzip,
        OciLayerZstd or OciLayerNondistributableZstd => Compression.Zstd,
        _ => Compression.Unknown,
    };
}
