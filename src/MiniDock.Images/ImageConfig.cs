using System.Text.Json;

namespace MiniDock.Images;

/// <summary>
/// The parts of an image config (image-spec config.md) that the store and `run` need: the
/// rootfs DiffIDs (what unpacked layers are verified and keyed by), the platform, and the
/// execution defaults that become config.json (conversion.md). Read by hand with JsonDocument:
/// no serializer metadata to build at start-up (see docs/performance.md).
/// </summary>
public sealed class ImageConfig
{
    public string Os { get; init; } = "";

    public string Architecture { get; init; } = "";

    public string? Variant { get; init; }

    public DateTime? Created { get; init; }

    public IReadOnlyList<string> DiffIds { get; init; } = [];

    public IReadOnlyList<string> Env { get; init; } = [];

    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string>? Cmd { get; init; }

    public string? WorkingDir { get; init; }

    public string? User { get; init; }

    public string? StopSignal { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Volumes { get; init; } = [];

    /// <summary>
    /// <c>config.ExposedPorts</c>' keys (<c>80/tcp</c>, <c>53/udp</c>): what <c>-P</c> publishes, as Docker does; an
    /// object whose values are empty, read like <see cref="Volumes"/>.
    /// </summary>
    public IReadOnlyList<string> ExposedPorts { get; init; } = [];

    public static ImageConfig Parse(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        var c = e.TryGetProperty("config", out var cfg) && cfg.ValueKind == JsonValueKind.Object ? cfg : default;
        return new ImageConfig
        {
            Os = Str(e, "os") ?? "",
            Architecture = Str(e, "architecture") ?? "",
            Variant = Str(e, "variant"),
            Created = Str(e, "created") is { } created && DateTime.TryParse(created, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var t) ? t : null,
            DiffIds = e.TryGetProperty("rootfs", out var rootfs) && rootfs.ValueKind == JsonValueKind.Object ? Strings(rootfs, "diff_ids") ?? [] : [],
            Env = c.ValueKind == JsonValueKind.Object ? Strings(c, "Env") ?? [] : [],
            Entrypoint = c.ValueKind == JsonValueKind.Object ? Strings(c, "Entrypoint") : null,
            Cmd = c.ValueKind == JsonValueKind.Object ? Strings(c, "Cmd") : null,
            WorkingDir = c.ValueKind == JsonValueKind.Object ? Str(c, "WorkingDir") : null,
            User = c.ValueKind == JsonValueKind.Object ? Str(c, "User") : null,
            StopSignal = c.ValueKind == JsonValueKind.Object ? Str(c, "StopSignal") : null,
            Labels = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object
                ? l.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : new Dictionary<string, string>(),
            Volumes = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("Volumes", out var v) && v.ValueKind == JsonValueKind.Object
                ? v.EnumerateObject().Select(p => p.Name).ToList()
                : [],
            ExposedPorts = c.ValueKind == JsonValueKind.Object && c.TryGetProperty("ExposedPorts", out var x) && x.ValueKind == JsonValueKind.Object
                ? x.EnumerateObject().Select(p => p.Name).ToList()
                : [],
        };
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static List<string>? Strings(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : null;
}
