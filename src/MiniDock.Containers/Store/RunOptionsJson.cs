using System.Text;
using System.Text.Json;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Store;

/// <summary>
/// <see cref="RunOptions"/> to and from the JSON kept in the <c>options</c> column. Hand-written (Utf8JsonWriter and
/// JsonDocument): a reflection serializer is not AOT-safe, and a source-generated one costs milliseconds of
/// start-up on every <c>run</c> (docs/performance.md).
/// </summary>
public static class RunOptionsJson
{
    public static string Write(RunOptions o)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("Image", o.Image);
            Str(w, "Name", o.Name);
            Str(w, "Entrypoint", o.Entrypoint);
            List(w, "Args", o.Args);
            List(w, "Env", o.Env);
            List(w, "EnvFiles", o.EnvFiles);
            Str(w, "WorkDir", o.WorkDir);
            Str(w, "User", o.User);
            Str(w, "Hostname", o.Hostname);
            List(w, "Volumes", o.Volumes);
            w.WriteBoolean("Tty", o.Tty);
            w.WriteBoolean("Interactive", o.Interactive);
            w.WriteBoolean("Detach", o.Detach);
            w.WriteBoolean("AutoRemove", o.AutoRemove);
            w.WriteBoolean("ReadOnly", o.ReadOnly);
            w.WriteBoolean("Init", o.Init);
            if (o.Memory is { } m)
            {
                w.WriteNumber("Memory", m);
            }

            if (o.Cpus is { } c)
            {
                w.WriteNumber("Cpus", c);
            }

            if (o.PidsLimit is { } p)
            {
                w.WriteNumber("PidsLimit", p);
            }

            Resources.ResourceOptionsJson.Write(w, o);

            w.WriteString("Network", o.Network);
            List(w, "Publish", o.Publish);
            w.WriteBoolean("PublishAll", o.PublishAll);
            List(w, "Expose", o.Expose);
            List(w, "NetworkAliases", o.NetworkAliases);
            Str(w, "StopSignal", o.StopSignal);
            if (o.StopTimeout is { } t)
            {
                w.WriteNumber("StopTimeout", t);
            }

            List(w, "Ulimits", o.Ulimits);
            w.WriteString("Restart", o.Restart);
            Str(w, "Platform", o.Platform);
            List(w, "Labels", o.Labels);
            List(w, "Dns", o.Dns);
            List(w, "DnsSearch", o.DnsSearch);
            List(w, "DnsOptions", o.DnsOptions);
            List(w, "AddHosts", o.AddHosts);
            List(w, "CapAdd", o.CapAdd);
            List(w, "CapDrop", o.CapDrop);
            List(w, "SecurityOpts", o.SecurityOpts);
            w.WriteBoolean("Privileged", o.Privileged);
            Str(w, "UsernsRemap", o.UsernsRemap);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public static RunOptions Read(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        var o = new RunOptions
        {
            Image = S(e, "Image") ?? "",
            Name = S(e, "Name"),
            Entrypoint = S(e, "Entrypoint"),
            Args = L(e, "Args"),
            Env = L(e, "Env"),
            EnvFiles = L(e, "EnvFiles"),
            WorkDir = S(e, "WorkDir"),
            User = S(e, "User"),
            Hostname = S(e, "Hostname"),
            Volumes = L(e, "Volumes"),
            Tty = B(e, "Tty"),
            Interactive = B(e, "Interactive"),
            Detach = B(e, "Detach"),
            AutoRemove = B(e, "AutoRemove"),
            ReadOnly = B(e, "ReadOnly"),
            Init = B(e, "Init"),
            Memory = e.TryGetProperty("Memory", out var m) ? m.GetInt64() : null,
            Cpus = e.TryGetProperty("Cpus", out var c) ? c.GetDouble() : null,
            PidsLimit = e.TryGetProperty("PidsLimit", out var p) ? p.GetInt64() : null,
            Network = S(e, "Network") ?? "none",
            Publish = L(e, "Publish"),
            PublishAll = B(e, "PublishAll"),
            Expose = L(e, "Expose"),
            NetworkAliases = L(e, "NetworkAliases"),
            StopSignal = S(e, "StopSignal"),
            StopTimeout = e.TryGetProperty("StopTimeout", out var t) ? t.GetInt32() : null,
            Ulimits = L(e, "Ulimits"),
            Restart = S(e, "Restart") ?? "no",
            Platform = S(e, "Platform"),
            Labels = L(e, "Labels"),
            Dns = L(e, "Dns"),
            DnsSearch = L(e, "DnsSearch"),
            DnsOptions = L(e, "DnsOptions"),
            AddHosts = L(e, "AddHosts"),
            CapAdd = L(e, "CapAdd"),
            CapDrop = L(e, "CapDrop"),
            SecurityOpts = L(e, "SecurityOpts"),
            Privileged = B(e, "Privileged"),
            UsernsRemap = S(e, "UsernsRemap"),
        };
        Resources.ResourceOptionsJson.Read(e, o);
        return o;
    }

    internal static void Str(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    internal static void List(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
    }

    internal static string? S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static bool B(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    internal static List<string> L(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
}
