using System.Text;
using System.Text.Json;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Store;

/// <summary>
/// What the last bundle build decided (the <c>resolved</c> column): the process, user, hostname and mounts
/// that <c>inspect</c>, <c>ps</c> and <c>exec</c> show and reuse without re-reading the rootfs.
/// </summary>
public sealed class ResolvedConfig
{
    public List<string> Args { get; init; } = [];

    public List<string> Env { get; init; } = [];

    public string Cwd { get; init; } = "/";

    public uint Uid { get; init; }

    public uint Gid { get; init; }

    public List<uint> AdditionalGids { get; init; } = [];

    public string Hostname { get; init; } = "";

    public string StopSignal { get; init; } = "SIGTERM";

    public int StopTimeout { get; init; } = 10;

    public List<MountPointInfo> Mounts { get; init; } = [];

    public static ResolvedConfig From(BundleResult b) => new()
    {
        Args = [.. b.Args],
        Env = [.. b.Env],
        Cwd = b.Cwd,
        Uid = b.Uid,
        Gid = b.Gid,
        AdditionalGids = [.. b.AdditionalGids],
        Hostname = b.Hostname,
        StopSignal = b.StopSignal,
        StopTimeout = b.StopTimeout,
        Mounts = [.. b.Mounts],
    };

    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            RunOptionsJson.List(w, "Args", Args);
            RunOptionsJson.List(w, "Env", Env);
            w.WriteString("Cwd", Cwd);
            w.WriteNumber("Uid", Uid);
            w.WriteNumber("Gid", Gid);
            w.WriteStartArray("AdditionalGids");
            foreach (var g in AdditionalGids)
            {
                w.WriteNumberValue(g);
            }

            w.WriteEndArray();
            w.WriteString("Hostname", Hostname);
            w.WriteString("StopSignal", StopSignal);
            w.WriteNumber("StopTimeout", StopTimeout);
            w.WriteStartArray("Mounts");
            foreach (var m in Mounts)
            {
                w.WriteStartObject();
                w.WriteString("Type", m.Type);
                RunOptionsJson.Str(w, "Name", m.Name);
                w.WriteString("Source", m.Source);
                w.WriteString("Destination", m.Destination);
                w.WriteBoolean("RW", m.ReadWrite);
                w.WriteBoolean("Anonymous", m.Anonymous);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public static ResolvedConfig? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        return new ResolvedConfig
        {
            Args = RunOptionsJson.L(e, "Args"),
            Env = RunOptionsJson.L(e, "Env"),
            Cwd = RunOptionsJson.S(e, "Cwd") ?? "/",
            Uid = e.GetProperty("Uid").GetUInt32(),
            Gid = e.GetProperty("Gid").GetUInt32(),
            AdditionalGids = e.TryGetProperty("AdditionalGids", out var g) ? g.EnumerateArray().Select(x => x.GetUInt32()).ToList() : [],
            Hostname = RunOptionsJson.S(e, "Hostname") ?? "",
            StopSignal = RunOptionsJson.S(e, "StopSignal") ?? "SIGTERM",
            StopTimeout = e.TryGetProperty("StopTimeout", out var t) ? t.GetInt32() : 10,
            Mounts = e.TryGetProperty("Mounts", out var ms)
                ? ms.EnumerateArray().Select(m => new MountPointInfo(
                    RunOptionsJson.S(m, "Type") ?? "bind", RunOptionsJson.S(m, "Name"), RunOptionsJson.S(m, "Source") ?? "",
                    RunOptionsJson.S(m, "Destination") ?? "", RunOptionsJson.B(m, "RW"), RunOptionsJson.B(m, "Anonymous"))).ToList()
                : [],
        };
    }
}
