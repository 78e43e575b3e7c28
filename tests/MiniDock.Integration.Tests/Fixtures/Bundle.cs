using System.Text.Json;
using System.Text.Json.Nodes;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// One OCI bundle made by samples/busybox-bundle/mkbundle.sh, owned by one test.
/// Its config.json is edited in memory through <see cref="Config"/> and written by <see cref="Save"/>
/// (the fixture saves it before every create/run).
/// </summary>
public sealed class Bundle
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public Bundle(string dir, string id, JsonObject config)
    {
        Dir = dir;
        Id = id;
        Config = config;
    }

    /// <summary>The container id this bundle is meant to run as.</summary>
    public string Id { get; }

    /// <summary>Absolute bundle directory.</summary>
    public string Dir { get; }

    public string RootFs => Path.Combine(Dir, "rootfs");

    public string ConfigPath => Path.Combine(Dir, "config.json");

    /// <summary>The absolute cgroupsPath set for this container (/minidock-test/ID unless a test changes it).</summary>
    public string CgroupsPath
    {
        get => (string?)Linux["cgroupsPath"] ?? "";
        set => Linux["cgroupsPath"] = value;
    }

    public JsonObject Config { get; }

    public JsonObject Process => Config["process"]!.AsObject();

    public JsonObject Linux => Config["linux"]!.AsObject();

    public JsonArray Mounts => Config["mounts"]!.AsArray();

    /// <summary>The linux.resources object, created on demand.</summary>
    public JsonObject Resources => GetOrAdd(Linux, "resources");

    /// <summary>The hooks object, created on demand.</summary>
    public JsonObject Hooks => GetOrAdd(Config, "hooks");

    public string Hostname
    {
        get => (string?)Config["hostname"] ?? "";
        set => Config["hostname"] = value;
    }

    public bool ReadonlyRoot
    {
        get => (bool?)Config["root"]!["readonly"] ?? false;
        set => Config["root"]!["readonly"] = value;
    }

    /// <summary>Sets process.args.</summary>
    public Bundle Args(params string[] args)
    {
        Process["args"] = ToArray(args);
        return this;
    }

    /// <summary>Sets process.args to <c>sh -c SCRIPT</c>.</summary>
    public Bundle Sh(string script) => Args("sh", "-c", script);

    /// <summary>Appends one entry to process.env.</summary>
    public Bundle Env(string assignment)
    {
        Process["env"]!.AsArray().Add(assignment);
        return this;
    }

    public Bundle AddMount(string destination, string type, string source, params string[] options)
    {
        var m = new JsonObject
        {
            ["destination"] = destination,
            ["type"] = type,
            ["source"] = source,
        };
        if (options.Length > 0)
        {
            m["options"] = ToArray(options);
        }

        Mounts.Add(m);
        return this;
    }

    public Bundle AddBind(string destination, string hostDir, bool readOnly) =>
        AddMount(destination, "bind", hostDir, "rbind", readOnly ? "ro" : "rw");

    public Bundle AddHook(string kind, JsonObject hook)
    {
        var list = Hooks[kind] as JsonArray;
        if (list is null)
        {
            list = [];
            Hooks[kind] = list;
        }

        list.Add(hook);
        return this;
    }

    /// <summary>Removes one namespace type from linux.namespaces.</summary>
    public Bundle RemoveNamespace(string type)
    {
        var ns = Linux["namespaces"]!.AsArray();
        foreach (var n in ns.Where(n => (string?)n!["type"] == type).ToList())
        {
            ns.Remove(n);
        }

        return this;
    }

    public Bundle AddNamespace(string type)
    {
        Linux["namespaces"]!.AsArray().Add(new JsonObject { ["type"] = type });
        return this;
    }

    /// <summary>Writes config.json.</summary>
    public void Save() => File.WriteAllText(ConfigPath, Config.ToJsonString(Indented));

    public static JsonArray ToArray(IEnumerable<string> items)
    {
        var a = new JsonArray();
        foreach (var i in items)
        {
            a.Add(i);
        }

        return a;
    }

    /// <summary>A hook entry: path, args (argv[0] included), optional env and timeout.</summary>
    public static JsonObject Hook(string path, IEnumerable<string> args, IEnumerable<string>? env = null, int? timeoutSeconds = null)
    {
        var h = new JsonObject { ["path"] = path, ["args"] = ToArray(args) };
        if (env is not null)
        {
            h["env"] = ToArray(env);
        }

        if (timeoutSeconds is { } t)
        {
            h["timeout"] = t;
        }

        return h;
    }

    private static JsonObject GetOrAdd(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject o)
        {
            return o;
        }

        o = [];
        parent[name] = o;
        return o;
    }
}
