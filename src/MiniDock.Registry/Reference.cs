using System.Text.RegularExpressions;

namespace MiniDock.Registry;

/// <summary>
/// A normalized image reference, following Docker's distribution/reference grammar
/// (reference/regexp.go, normalize.go): a domain is the first path component only when it contains
/// '.' or ':' or is "localhost" (or has uppercase letters); otherwise the image lives on docker.io and a
/// single-component name gets the "library/" prefix. A reference without tag or digest means ":latest".
/// </summary>
public sealed partial record Reference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>Docker Hub's canonical name; the API itself is served by <see cref="DockerHubApiHost"/>.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>Docker Hub's registry API host (docker.io serves only the website).</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    private const int MaxNameLength = 255;

    /// <summary>Parses and normalizes <paramref name="text"/>; throws <see cref="ReferenceException"/> on malformed input.</summary>
    public static Reference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            throw new ReferenceException("invalid reference format: empty reference");
        }

        if (text.Trim() != text || text.Any(char.IsWhiteSpace))
        {
            throw new ReferenceException($"invalid reference format: '{text}' contains whitespace");
        }

        var name = text;
        string? digest = null;
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = name[(at + 1)..];
            name = name[..at];
            if (!DigestRegex().IsMatch(digest))
            {
                throw new ReferenceException($"invalid reference format: '{text}' has a malformed digest (want sha256:<64 lowercase hex>)");
            }
        }

        string? tag = null;
        var lastSlash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
            if (!TagRegex().IsMatch(tag))
            {
                throw new ReferenceException($"invalid reference format: '{text}' has an invalid tag '{tag}' (want [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})");
            }
        }

        if (name.Length == 0)
        {
            throw new ReferenceException($"invalid reference format: '{text}' has no repository name");
        }

        string registry;
        string repository;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? name : name[..slash];
        if (slash >= 0 && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal)
            || first == "localhost" || first.Any(char.IsUpper)))
        {
            registry = first;
            repository = name[(slash + 1)..];
            if (!DomainRegex().IsMatch(registry))
            {
                throw new ReferenceException($"invalid reference format: '{text}' has an invalid registry host '{registry}'");
            }
        }
        else
        {
            registry = DockerHub;
            repository = name;
        }

        if (registry is "index.docker.io" or DockerHubApiHost)
        {
            registry = DockerHub;
        }

        if (registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (!RepositoryRegex().IsMatch(repository))
        {
            throw new ReferenceException(repository.Any(char.IsUpper)
                ? $"invalid reference format: repository name '{repository}' must be lowercase"
                : $"invalid reference format: '{text}' has an invalid repository name '{repository}'");
        }

        if (registry.Length + 1 + repository.Length > MaxNameLength)
        {
            throw new ReferenceException($"invalid reference format: '{text}' is longer than {MaxNameLength} characters");
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        return new Reference(registry, repository, tag, digest);
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string text, out Reference? reference)
    {
        try
        {
            reference = Parse(text);
            return true;
        }
        catch (ReferenceException)
        {
            reference = null;
            return false;
        }
    }

    /// <summary>The host (and port) the distribution API is served from: docker.io's API lives on registry-1.docker.io.</summary>
    public string ApiHost => Registry == DockerHub ? DockerHubApiHost : Registry;

    /// <summary>
    /// Docker's short form (reference.FamiliarName): docker.io is left out and so is "library/", so
    /// docker.io/library/alpine is "alpine" and docker.io/user/app is "user/app"; other registries keep
    /// the full Registry/Repository.
    /// </summary>
    public string FamiliarName
    {
        get
        {
            if (Registry != DockerHub)
            {
                return Registry + "/" + Repository;
            }

            return Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0
                ? Repository[8..]
                : Repository;
        }
    }

    /// <summary>The tag or digest used in the manifest URL; a digest wins because it pins content.</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>The same repository on the same registry, pinned to <paramref name="digest"/>.</summary>
    public Reference WithDigest(string digest) => this with { Digest = digest };

    /// <summary>Full form: registry/repository[:tag][@digest].</summary>
    public override string ToString()
    {
        var s = Registry + "/" + Repository;
        if (Tag is not null)
        {
            s += ":" + Tag;
        }

        if (Digest is not null)
        {
            s += "@" + Digest;
        }

        return s;
    }

    // distribution/reference: path components are lowercase alnum separated by '.', '_', '__' or '-'+.
    [GeneratedRegex("^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryRegex();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagRegex();

    // Only sha256 is accepted: it is what every registry serves and what image-spec requires support for.
    [GeneratedRegex("^sha256:[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestRegex();

    // A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
    [GeneratedRegex("^(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainRegex();
}
