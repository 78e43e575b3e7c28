using System.Globalization;
using System.Text.Json;

namespace MiniDock.Containers.Volumes;

/// <summary>
/// <c>volume.json</c>, beside <c>_data</c>: the fields of <c>docker volume inspect</c>
/// (https://docs.docker.com/reference/cli/docker/volume/inspect/) plus <c>Anonymous</c>, written by hand
/// with <see cref="Utf8JsonWriter"/> (no reflection: the binary is NativeAOT) and read with <see cref="JsonDocument"/>.
/// </summary>
internal static class VolumeMetadata
{
    public const string FileName = "volume.json";

    public static byte[] Serialize(VolumeInfo v)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("Name", v.Name);
            w.WriteString("Driver", "local");
            w.WriteString("Mountpoint", v.Mountpoint);
            w.WriteString("CreatedAt", FormatTime(v.CreatedAt));
            w.WriteStartObject("Labels");
            w.WriteEndObject();
            w.WriteBoolean("Anonymous", v.Anonymous);
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>Reads the metadata; null when the file is missing or unreadable. The mount point is recomputed by the caller.</summary>
    public static (DateTime CreatedAt, bool Anonymous)? Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var created = root.TryGetProperty("CreatedAt", out var c) && c.ValueKind == JsonValueKind.String
                && DateTime.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : DateTime.UnixEpoch;
            var anonymous = root.TryGetProperty("Anonymous", out var a) && a.ValueKind == JsonValueKind.True;
            return (DateTime.SpecifyKind(created, DateTimeKind.Utc), anonymous);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>RFC 3339 in UTC to the second, as Docker prints CreatedAt.</summary>
    public static string FormatTime(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Writes <paramref name="path"/> atomically: a temporary file in the same directory, flushed to disk, renamed over it.</summary>
    public static void WriteAtomic(string path, byte[] content)
    {
        var tmp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(content);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }
}
