using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MiniDock.Registry;

/// <summary>
/// <c>login</c>/<c>logout</c> write the same file Docker reads and writes
/// (<see cref="DockerConfigCredentials.DefaultPath"/>), so Docker and MiniDock share credentials.
/// Only <c>auths[host].auth</c> is touched; every other key in the file is kept as it was.
/// The file is replaced atomically with mode 0600, as docker/cli does.
/// </summary>
public static class DockerConfigFile
{
    /// <summary>The key docker/cli uses for a registry: Docker Hub keeps its legacy URL.</summary>
    public static string Key(string registry) => registry is Reference.DockerHub or "index.docker.io" or "registry-1.docker.io" ? "https://index.docker.io/v1/" : registry;

    public static void Store(string registry, string user, string secret, string? path = null)
        => Update(path, auths => auths[Key(registry)] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + secret)) });

    /// <summary>Removes the registry's entry; false when there was none.</summary>
    public static bool Erase(string registry, string? path = null)
    {
        var removed = false;
        Update(path, auths => removed = auths.Remove(Key(registry)));
        return removed;
    }

    private static void Update(string? path, Action<JsonObject> change)
    {
        path ??= DockerConfigCredentials.DefaultPath() ?? throw new RegistryException("no HOME or DOCKER_CONFIG: nowhere to keep credentials");
        JsonObject root;
        try
        {
            root = File.Exists(path) ? JsonNode.Parse(File.ReadAllBytes(path)) as JsonObject ?? new JsonObject() : new JsonObject();
        }
        catch (JsonException e)
        {
            throw new RegistryException($"{path}: invalid JSON: {e.Message}");
        }

        if (root["auths"] is not JsonObject auths)
        {
            auths = new JsonObject();
            root["auths"] = auths;
        }

        change(auths);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(tmp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true }))
        {
            root.WriteTo(w);
        }

        File.Move(tmp, path, overwrite: true);
    }
}
