namespace MiniDock.Images.Content;

/// <summary>
/// A content-addressed blob store modelled on containerd's content store: every blob lives at
/// <c>blobs/sha256/&lt;hex&gt;</c> and is only ever made visible, complete and verified, by an atomic rename.
/// Digests are always <c>sha256:&lt;64 lowercase hex&gt;</c>; anything else throws
/// <see cref="ContentException"/> with <see cref="ContentError.InvalidDigest"/> and never touches the disk.
/// </summary>
public interface IContentStore
{
    /// <summary>The data root this store lives under.</summary>
    string Root { get; }

    /// <summary>
    /// The stable path <c>ingest/&lt;hex&gt;.partial</c> where a download of <paramref name="digest"/> accumulates.
    /// Stable (not random) so that a killed pull can resume with an HTTP Range request from its length.
    /// Creates the ingest directory.
    /// </summary>
    string IngestPath(string digest);

    /// <summary>Bytes already in the ingest file (0 when none): the offset to resume a download from.</summary>
    long IngestedLength(string digest);

    /// <summary>
    /// Takes an exclusive cross-process lock (flock) for downloading <paramref name="digest"/> into its ingest file,
    /// so two pulls of the same layer never append to the same partial file. Dispose to release.
    /// </summary>
    Task<IDisposable> LockIngestAsync(string digest, CancellationToken ct);

    /// <summary>True when a verified blob exists.</summary>
    bool Has(string digest);

    /// <summary>The path of the blob (whether or not it exists).</summary>
    string BlobPath(string digest);

    /// <summary>Size of the committed blob; throws <see cref="ContentException"/> (<see cref="ContentError.NotFound"/>) when absent.</summary>
    long Size(string digest);

    /// <summary>
    /// Verifies the ingest file's size and sha256 against the descriptor, fsyncs it, and renames it atomically into
    /// <c>blobs/</c>. A too-long file or a hash mismatch deletes the ingest file and throws; a too-short file throws
    /// <see cref="ContentError.Incomplete"/> and is kept so the download can resume. Succeeds without work if the
    /// blob is already present.
    /// </summary>
    Task CommitAsync(string digest, long expectedSize, CancellationToken ct);

    /// <summary>
    /// Stores a small blob (manifest, index, config) held in memory. Verifies it against
    /// <paramref name="expectedDigest"/> when given and returns its digest.
    /// </summary>
    Task<string> WriteAsync(ReadOnlyMemory<byte> bytes, string? expectedDigest, CancellationToken ct);

    /// <summary>Deletes a blob; false when it was not there.</summary>
    bool Delete(string digest);

    /// <summary>Digests of all committed blobs.</summary>
    IEnumerable<string> List();

    /// <summary>
    /// Deletes ingest files (partials, temps, locks) not modified for <paramref name="olderThan"/>. Partials are
    /// deliberately kept for a while so an interrupted pull can resume; this bounds how long.
    /// </summary>
    void CleanIngest(TimeSpan olderThan);
}
