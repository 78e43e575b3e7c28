namespace MiniDock.Registry;

/// <summary>
/// An image platform (image-spec image-index.md "platform"). Matching follows containerd's
/// platforms.Normalize: arm64 without a variant is v8, arm without a variant is v7, amd64 without a
/// variant is v1, and common aliases (x86_64, aarch64) are folded.
/// </summary>
public sealed record Platform(string Os, string Architecture, string? Variant)
{
    /// <summary>linux/amd64: what MiniDock runs on and pulls when nothing else is asked for.</summary>
    public static Platform Default { get; } = new("linux", "amd64", null);

    /// <summary>Parses "os/arch[/variant]" (e.g. linux/arm64/v8); throws <see cref="FormatException"/> otherwise.</summary>
    public static Platform Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().ToLowerInvariant().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
        {
            throw new FormatException($"invalid platform '{text}': want os/arch[/variant], e.g. linux/arm64/v8");
        }

        return new Platform(parts[0], NormalizeArchitecture(parts[1]), parts.Length == 3 ? parts[2] : null);
    }

    /// <summary>
    /// True when both name the same os, architecture and (normalized) variant. The comparison is
    /// symmetric so an index entry "linux/arm64" satisfies a request for "linux/arm64/v8" and vice versa.
    /// </summary>
    public bool Matches(Platform? other)
    {
        if (other is null)
        {
            return false;
        }

        return string.Equals(Os, other.Os, StringComparison.OrdinalIgnoreCase)
            && NormalizeArchitecture(Architecture) == NormalizeArchitecture(other.Architecture)
            && NormalizeVariant(Architecture, Variant) == NormalizeVariant(other.Architecture, other.Variant);
    }

    /// <summary>os/arch[/variant].</summary>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static string NormalizeArchitecture(string arch) => arch.ToLowerInvariant() switch
    {
        "x86_64" or "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" or "i686" => "386",
        var a => a,
    };

    private static string NormalizeVariant(string arch, string? variant)
    {
        var v = variant?.ToLowerInvariant();
        return NormalizeArchitecture(arch) switch
        {
            "arm64" => v is null or "8" or "v8" ? "v8" : v,
            "arm" => v is null or "7" or "v7" ? "v7" : v is "6" or "5" ? "v" + v : v,
            "amd64" => v is null or "v1" ? "v1" : v,
            _ => v ?? string.Empty,
        };
    }
}
