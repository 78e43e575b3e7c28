using System.Text.Json;

namespace MiniDock.Registry;

/// <summary>The outcome of <see cref="IRegistryClient.ResolveAsync"/>: one platform's manifest, verified and parsed.</summary>
/// <param name="Reference">What was asked for.</param>
/// <param name="ManifestDigest">The digest of the platform manifest's bytes.</param>
/// <param name="ManifestMediaType">Its media type (from the body, else Content-Type).</param>
/// <param name="ManifestBytes">The exact bytes, so the store can keep them under their digest.</param>
/// <param name="Config">The config blob descriptor.</param>
/// <param name="Layers">Layer descriptors, base first.</param>
/// <param name="IndexDigest">The digest of the index / manifest list it was chosen from, if any.</param>
public sealed record ResolvedImage(
    Reference Reference,
    string ManifestDigest,
    string ManifestMediaType,
    byte[] ManifestBytes,
    Descriptor Config,
    IReadOnlyList<Descriptor> Layers,
    string? IndexDigest);

/// <summary>A parsed image manifest (image-spec manifest.md).</summary>
public sealed record ImageManifest(string MediaType, Descriptor Config, IReadOnlyList<Descriptor> Layers);

/// <summary>Pure JSON parsing of manifests and indexes, kept apart from HTTP so it can be unit-tested.</summary>
public static class ManifestParser
{
    /// <summary>
    /// The media type of a manifest: its own "mediaType" field, else the response Content-Type (OCI
    /// manifests may omit the field, image-spec manifest.md), else guessed from its shape.
    /// Throws for schema1, which MiniDock does not support.
    /// </summary>
    public static string DetectMediaType(ReadOnlySpan<byte> json, string? contentType)
    {
        string? fromBody = null;
        int? schemaVersion = null;
        bool hasManifests = false, hasLayers = false, hasFsLayers = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new RegistryException("manifest is not a JSON object");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "mediaType" when reader.TokenType == JsonTokenType.String:
                        fromBody = reader.GetString();
                        break;
                    case "schemaVersion" when reader.TokenType == JsonTokenType.Number:
                        schemaVersion = reader.GetInt32();
                        break;
                    case "manifests":
                        hasManifests = true;
                        break;
                    case "layers":
                        hasLayers = true;
                        break;
                    case "fsLayers":
                        hasFsLayers = true;
                        break;
                }

                reader.Skip();
            }
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"manifest is not valid JSON: {ex.Message}", null, ex);
        }

        var type = fromBody;
        if (string.IsNullOrEmpty(type))
        {
            type = contentType?.Split(';')[0].Trim();
        }

        if (schemaVersion == 1 || hasFsLayers || (type is not null && MediaTypes.IsSchema1(type)))
        {
            throw new RegistryException("schema1 manifests are not supported");
        }

        if (string.IsNullOrEmpty(type) || type is "application/json" or "text/plain" or "application/octet-stream")
        {
            type = hasManifests ? MediaTypes.OciIndex : hasLayers ? MediaTypes.OciManifest : type;
        }

        return type ?? throw new RegistryException("manifest has no media type and no Content-Type");
    }

    /// <summary>Reads the "manifests" array of an index / manifest list (image-spec image-index.md).</summary>
    public static IReadOnlyList<Descriptor> ParseIndex(ReadOnlySpan<byte> json)
    {
        using var doc = Parse(json);
        if (!doc.RootElement.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
        {
            throw new RegistryException("index has no \"manifests\" array");
        }

        var list = new List<Descriptor>();
        foreach (var m in manifests.EnumerateArray())
        {
            var d = ReadDescriptor(m, "index entry");
            Platform? platform = null;
            if (m.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                platform = new Platform(
                    GetString(p, "os") ?? string.Empty,
                    GetString(p, "architecture") ?? string.Empty,
                    GetString(p, "variant") is { Length: > 0 } v ? v : null);
            }

            list.Add(d with { Platform = platform });
        }

        return list;
    }

    /// <summary>
    /// Picks the entry for <paramref name="wanted"/>: the first match wins (as containerd and dockerd do);
    /// attestation entries (unknown/unknown) are never chosen; entries without a platform are only used
    /// when no entry has one. Fails with the list of what is available.
    /// </summary>
    public static Descriptor SelectPlatform(IReadOnlyList<Descriptor> entries, Platform wanted, string what)
    {
        var real = entries.Where(e => e.Platform is not null && !(e.Platform.Os == "unknown" && e.Platform.Architecture == "unknown")).ToList();
        var match = real.FirstOrDefault(e => wanted.Matches(e.Platform));
        if (match is not null)
        {
            return match;
        }

        if (real.Count == 0)
        {
            var unplatformed = entries.FirstOrDefault(e => e.Platform is null);
            if (unplatformed is not null)
            {
                return unplatformed;
            }
        }

        var available = real.Count == 0 ? "none" : string.Join(", ", real.Select(e => e.Platform!.ToString()).Distinct());
        throw new RegistryException($"no matching manifest for {wanted} in {what}; available platforms: {available}");
    }

    /// <summary>Reads config and layers of an image manifest; an unknown layer media type is a clear error.</summary>
    public static ImageManifest ParseManifest(ReadOnlySpan<byte> json, string mediaType)
    {
        using var doc = Parse(json);
        var root = doc.RootElement;
        if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            throw new RegistryException("manifest has no \"config\" descriptor");
        }

        var configDescriptor = ReadDescriptor(config, "config");
        var layers = new List<Descriptor>();
        if (root.TryGetProperty("layers", out var layerArray) && layerArray.ValueKind == JsonValueKind.Array)
        {
            foreach (var l in layerArray.EnumerateArray())
            {
                var d = ReadDescriptor(l, "layer");
                if (!MediaTypes.IsLayer(d.MediaType))
                {
                    throw new RegistryException($"unsupported layer media type '{d.MediaType}' (layer {d.Digest})");
                }

                layers.Add(d);
            }
        }
        else
        {
            throw new RegistryException("manifest has no \"layers\" array");
        }

        return new ImageManifest(mediaType, configDescriptor, layers);
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            return JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"manifest is not valid JSON: {ex.Message}", null, ex);
        }
    }

    private static Descriptor ReadDescriptor(JsonElement e, string what)
    {
        var mediaType = GetString(e, "mediaType");
        var digest = GetString(e, "digest");
        if (string.IsNullOrEmpty(mediaType) || string.IsNullOrEmpty(digest)
            || !e.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var n) || n < 0)
        {
            throw new RegistryException($"malformed {what} descriptor: mediaType, digest and size are required");
        }

        Digests.Validate(digest, what);
        return new Descriptor(mediaType, digest, n);
    }

    private static string? GetString(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
