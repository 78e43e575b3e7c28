namespace MiniDock.Images.Content;

/// <summary>What went wrong in the content store, so callers can react (retry, resume, report) without parsing messages.</summary>
public enum ContentError
{
    /// <summary>The string is not a digest this store accepts (only <c>sha256:</c> + 64 lowercase hex).</summary>
    InvalidDigest,

    /// <summary>The bytes do not hash to the digest they were fetched for (image-spec descriptor verification).</summary>
    DigestMismatch,

    /// <summary>The ingest file is longer than the descriptor's size: it can never become valid, so it was deleted.</summary>
    SizeMismatch,

    /// <summary>The ingest file is shorter than the descriptor's size: the download is not finished and can be resumed.</summary>
    Incomplete,

    /// <summary>Neither a blob nor an ingest file exists for the digest.</summary>
    NotFound,
}

/// <summary>
/// A content-store failure with a one-line message fit for the CLI. One exception type with a
/// <see cref="ContentError"/> kind (rather than a hierarchy) keeps the catch sites simple.
/// </summary>
public sealed class ContentException : Exception
{
    public ContentException(ContentError error, string message) : base(message) => Error = error;

    public ContentException(ContentError error, string message, Exception inner) : base(message, inner) => Error = error;

    /// <summary>The kind of failure.</summary>
    public ContentError Error { get; }
}
