using System.Security.Cryptography;
using System.Text;
using MiniDock.Images.Content;

namespace MiniDock.Images.Metadata;

/// <summary>
/// Layer ChainIDs, per the OCI image-spec (config.md, "Layer ChainID"):
/// <c>ChainID(L0) = DiffID(L0)</c>; <c>ChainID(L0..n) = SHA256(ChainID(L0..n-1) + " " + DiffID(Ln))</c>, the hash
/// taken over the ASCII of the two digest strings (with their <c>sha256:</c> prefixes) and written as
/// <c>sha256:&lt;hex&gt;</c>. A ChainID names a whole stack, so two images sharing a base share its snapshots.
/// </summary>
public static class ChainId
{
    /// <summary>ChainIDs for every prefix of <paramref name="diffIds"/> (result[i] covers layers 0..i).</summary>
    public static IReadOnlyList<string> Compute(IReadOnlyList<string> diffIds)
    {
        ArgumentNullException.ThrowIfNull(diffIds);
        var result = new string[diffIds.Count];
        string? parent = null;
        for (var i = 0; i < diffIds.Count; i++)
        {
            parent = parent is null ? Validate(diffIds[i]) : Next(parent, diffIds[i]);
            result[i] = parent;
        }

        return result;
    }

    /// <summary>The ChainID of <paramref name="parentChainId"/>'s stack with <paramref name="diffId"/> on top.</summary>
    public static string Next(string parentChainId, string diffId)
    {
        var text = Validate(parentChainId) + " " + Validate(diffId);
        return Digest.FromHash(SHA256.HashData(Encoding.ASCII.GetBytes(text)));
    }

    private static string Validate(string digest)
    {
        _ = Digest.Hex(digest);
        return digest;
    }
}
