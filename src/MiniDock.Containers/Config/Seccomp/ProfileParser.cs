using System.Text.Json;

namespace MiniDock.Containers.Config.Seccomp;

/// <summary>
/// Reads a seccomp profile file as Docker's <c>--security-opt seccomp=PROFILE.json</c> does (moby's
/// profiles/seccomp LoadProfile): Docker's format (<c>archMap</c>, <c>name</c> or <c>names</c>, <c>includes</c> and
/// <c>excludes</c>) or an OCI linux.seccomp object (config-linux.md#seccomp), which is the same format without the
/// conditions. Unknown fields are ignored, as Go's decoder ignores them; a field of the wrong type, an unparsable
/// <c>minKernel</c>, or the contradictions Docker refuses (<c>architectures</c> with <c>archMap</c>, <c>name</c> with
/// <c>names</c>) are one clear error. A JsonDocument walk rather than a serializer: no reflection (NativeAOT), and
/// each error names the field.
/// </summary>
internal static class ProfileParser
{
    public static SeccompProfile Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("the profile must be a JSON object");
            }

            var profile = new SeccompProfile
            {
                DefaultAction = Str(root, "defaultAction") ?? "",
                DefaultErrnoRet = U32(root, "defaultErrnoRet"),
                Architectures = Strings(root, "architectures"),
                ArchMap = List(root, "archMap", Obj("archMap", a => new ArchMapEntry(Str(a, "architecture") ?? throw Error("archMap: an entry has no architecture"), Strings(a, "subArchitectures")))),
                Flags = Strings(root, "flags"),
                ListenerPath = Str(root, "listenerPath"),
                ListenerMetadata = Str(root, "listenerMetadata"),
                Syscalls = List(root, "syscalls", Obj("syscalls", Syscall)),
            };
            if (profile.Architectures.Count > 0 && profile.ArchMap.Count > 0)
            {
                throw Error("both 'architectures' and 'archMap' are specified, use either 'architectures' or 'archMap'");
            }

            if (!string.IsNullOrEmpty(profile.ListenerPath))
            {
                throw Error("listenerPath is not supported (MiniDock runs no seccomp agent for SCMP_ACT_NOTIFY)");
            }

            return profile;
        }
        catch (JsonException e)
        {
            throw Error($"invalid JSON: {e.Message}");
        }
    }

    private static ProfileSyscall Syscall(JsonElement s)
    {
        var name = Str(s, "name");
        var names = Strings(s, "names");
        if (!string.IsNullOrEmpty(name) && names.Count > 0)
        {
            throw Error("both 'name' and 'names' are specified in a rule, use either 'name' or 'names'");
        }

        return new ProfileSyscall
        {
            Names = string.IsNullOrEmpty(name) ? names : [name],
            Action = Str(s, "action") ?? "",
            ErrnoRet = U32(s, "errnoRet"),
            Args = List(s, "args", Obj("args", a => new ProfileArg(U32(a, "index") ?? 0, U64(a, "value"), U64(a, "valueTwo"), Str(a, "op") ?? ""))),
            Includes = Filter(s, "includes"),
            Excludes = Filter(s, "excludes"),
        };
    }

    private static ProfileFilter? Filter(JsonElement s, string name)
    {
        if (!s.TryGetProperty(name, out var f) || f.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (f.ValueKind != JsonValueKind.Object)
        {
            throw Error($"{name}: want an object");
        }

        KernelVersion? minKernel = null;
        if (Str(f, "minKernel") is { Length: > 0 } v)
        {
            minKernel = KernelVersion.Parse(v) ?? throw Error($"invalid kernel version: {v}, expected \"<kernel>.<major>\"");
        }

        return new ProfileFilter { Caps = Strings(f, "caps"), Arches = Strings(f, "arches"), MinKernel = minKernel };
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Null => null,
        _ => throw Error($"{name}: want a string, got {Kind(v)}"),
    } : null;

    private static ulong U64(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var n) ? n : throw Error($"{name}: want an unsigned 64-bit number, got {v.GetRawText()}");
    }

    private static uint? U32(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetUInt32(out var n) ? n : throw Error($"{name}: want an unsigned 32-bit number, got {v.GetRawText()}");
    }

    private static List<string> Strings(JsonElement e, string name) => List(e, name, v => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Error($"{name}: want strings, got {Kind(v)}"));

    private static List<T> List<T>(JsonElement e, string name, Func<JsonElement, T> read)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error($"{name}: want an array, got {Kind(v)}");
        }

        var list = new List<T>(v.GetArrayLength());
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Null)
            {
                throw Error($"{name}: null entry");
            }

            list.Add(read(item));
        }

        return list;
    }

    private static Func<JsonElement, T> Obj<T>(string name, Func<JsonElement, T> read)
        => v => v.ValueKind == JsonValueKind.Object ? read(v) : throw Error($"{name}: want objects, got {Kind(v)}");

    private static string Kind(JsonElement v) => v.ValueKind.ToString().ToLowerInvariant();

    private static ContainerException Error(string message) => new($"decoding seccomp profile failed: {message}");
}
