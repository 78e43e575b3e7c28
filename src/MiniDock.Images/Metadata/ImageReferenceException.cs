namespace MiniDock.Images.Metadata;

/// <summary>
/// A lookup matched more than one image (a short ID prefix shared by several IDs, or an index digest pulled for
/// several platforms). Docker refuses such lookups rather than guessing; so do we.
/// </summary>
public sealed class AmbiguousImageReferenceException : Exception
{
    public AmbiguousImageReferenceException(string reference, IReadOnlyList<string> candidates)
        : base($"ambiguous image reference \"{reference}\": matches {string.Join(", ", candidates)}")
    {
        Reference = reference;
        Candidates = candidates;
    }

    /// <summary>What was looked up.</summary>
    public string Reference { get; }

    /// <summary>Image IDs it matched.</summary>
    public IReadOnlyList<string> Candidates { get; }
}
