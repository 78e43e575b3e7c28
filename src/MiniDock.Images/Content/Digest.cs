namespace MiniDock.Images.Content;

/// <summary>
/// Digest validation for the content store. The OCI image-spec (descriptor.md, "Digests") allows other
/// algorithms and an <c>encoded</c> part of <c>[a-zA-Z0-9=_-]+</c>, but for sha256 it requires exactly 64
/// lowercase hex characters; we accept only that. A digest becomes a file name, so anything looser
/// (uppercase, "..", "/") would be either a duplicate blob or a path traversal.
/// </summary>
public static class Digest
{
    /// <summary>The only algorithm prefix accepted.</summary>
    public const string Sha256Prefix = "sha256:";

    /// <summary>Length of a full <c>sha256:&lt;hex&gt;</c> digest string.</summary>
    public const int Sha256Length = 7 + 64;

    /// <summary>True when <paramref name="digest"/> is <c>sha256:</c> followed by exactly 64 lowercase hex characters.</summary>
    public static bool IsValid(string? digest) =>
        digest is { Length: Sha256Length }
        && digest.StartsWith(Sha256Prefix, StringComparison.Ordinal)
        && IsLowerHex(digest.AsSpan(Sha256Prefix.Length));

    /// <summary>Returns the 64-character hex part, or throws <see cref="ContentException"/> (<see cref="ContentError.InvalidDigest"/>).</summary>
    public static string Hex(string digest)
    {
        if (!IsValid(digest))
        {
            throw new ContentException(ContentError.InvalidDigest, $"invalid digest \"{Printable(digest)}\": want sha256:<64 lowercase hex>");
        }

        return digest[Sha256Prefix.Length..];
    }

    /// <summary>Formats raw SHA-256 bytes as a digest string.</summary>
    public static string FromHash(ReadOnlySpan<byte> sha256) => Sha256Prefix + Convert.ToHexStringLower(sha256);

    /// <summary>Computes the digest of <paramref name="bytes"/>.</summary>
    public static string Compute(ReadOnlySpan<byte> bytes) => FromHash(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>True for a non-empty run of lowercase hex characters (used for short-ID prefixes too).</summary>
    public static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    // Keeps hostile input (control characters, huge strings) out of one-line error messages.
    private static string Printable(string? s)
    {
        if (s is null)
        {
            return "(null)";
        }

        var t = s.Length > 80 ? s[..80] + "..." : s;
        return string.Create(t.Length, t, static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++)
            {
                span[i] = char.IsControl(src[i]) ? '?' : src[i];
            }
        });
    }
}
