using System.Security.Cryptography;

namespace MiniDock.Registry;

/// <summary>Digest helpers (image-spec descriptor.md "Digests"): sha256 is the algorithm every registry uses.</summary>
public static class Digests
{
    /// <summary>"sha256:" + lowercase hex of SHA-256(<paramref name="data"/>).</summary>
    public static string Sha256(ReadOnlySpan<byte> data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Throws unless <paramref name="digest"/> is sha256:&lt;64 lowercase hex&gt;, the only form we can verify.</summary>
    public static void Validate(string digest, string what)
    {
        if (!IsSha256(digest))
        {
            throw new RegistryException($"unsupported or malformed digest '{digest}' for {what} (want sha256:<64 lowercase hex>)");
        }
    }

    /// <summary>True for sha256:&lt;64 lowercase hex&gt;.</summary>
    public static bool IsSha256(string digest)
    {
        if (digest.Length != 71 || !digest.StartsWith("sha256:", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in digest.AsSpan(7))
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
