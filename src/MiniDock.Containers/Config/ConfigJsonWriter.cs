using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Config;

/// <summary>Everything config.json says, decided; <see cref="ConfigJsonWriter"/> only spells it out.</summary>
internal sealed class OciConfig
{
    public required bool Terminal { get; init; }

    public required uint Uid { get; init; }

    public required uint Gid { get; init; }

    public required IReadOnlyList<uint> AdditionalGids { get; init; }

    public required IReadOnlyList<string> Args { get; init; }

    public required IReadOnlyList<string> Env { get; init; }

    public required string Cwd { get; init; }

    public required IReadOnlyList<string> Capabilities { get; init; }

    /// <summary>process.noNewPrivileges: off by default as in Docker (setuid programs keep working).</summary>
    public bool NoNewPrivileges { get; init; }

    public required IReadOnlyList<(string Type, ulong Soft, ulong Hard)> Rlimits { get; init; }

    public required string RootPath { get; init; }

    public required bool RootReadonly { get; init; }

    public required string Hostname { get; init; }

    public required IReadOnlyList<OciMount> Mounts { get; init; }

    public required IReadOnlyList<KeyValuePair<string, string>> Annotations { get; init; }

    public required IReadOnlyList<string> Namespaces { get; init; }

    /// <summary>Namespaces joined rather than created, by type (network: a pinned bridge namespace).</summary>
    public IReadOnlyDictionary<string, string> NamespacePaths { get; init; } = new Dictionary<string, string>();

    public required IReadOnlyList<DeviceRule> Devices { get; init; }

    /// <summary>linux.resources' memory, cpu, pids and blockIO sections (<see cref="MiniDock.Containers.Resources.ResourceLimits.ToSpec"/>).</summary>
    public MiniDock.Runtime.Spec.ResourcesSpec? Resources { get; init; }

    public required string CgroupsPath { get; init; }

    public required IReadOnlyList<string> MaskedPaths { get; init; }

    public required IReadOnlyList<string> ReadonlyPaths { get; init; }

    /// <summary>linux.devices: the device nodes to create besides the runtime's defaults (the host's, with --privileged).</summary>
    public IReadOnlyList<OciDevice> LinuxDevices { get; init; } = [];

    /// <summary>linux.seccomp, resolved for this container (Seccomp/ContainerSeccomp); null: unconfined.</summary>
    public SeccompSpec? Seccomp { get; init; }

    /// <summary>linux.uidMappings/gidMappings for <c>--userns-remap</c> (one range each, from container id 0); null: none.</summary>
    public UsernsRemap? UserNamespaceMap { get; init; }
}

/// <summary>
/// Writes config.json (https://github.com/opencontainers/runtime-spec/blob/main/config.md) with
/// <see cref="Utf8JsonWriter"/> by hand: no serializer metadata to build on the <c>run</c> hot path
/// (the source-generated serializer's first call costs milliseconds under NativeAOT; see SpecReader).
/// </summary>
internal static class ConfigJsonWriter
{
    public const string OciVersion = "1.2.0";

    public static byte[] Write(OciConfig c)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("ociVersion", OciVersion);
            Process(w, c);
            w.WriteStartObject("root");
            w.WriteString("path", c.RootPath);
            w.WriteBoolean("readonly", c.RootReadonly);
            w.WriteEndObject();
            w.WriteString("hostname", c.Hostname);
            w.WriteStartArray("mounts");
            foreach (var m in c.Mounts)
            {
                w.WriteStartObject();
                w.WriteString("destination", m.Destination);
                w.WriteString("type", m.Type);
                w.WriteString("source", m.Source);
                Strings(w, "options", m.Options);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (c.Annotations.Count > 0)
            {
                w.WriteStartObject("annotations");
                foreach (var (k, v) in c.Annotations)
                {
                    w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            Linux(w, c);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Process(Utf8JsonWriter w, OciConfig c)
    {
        w.WriteStartObject("process");
        w.WriteBoolean("terminal", c.Terminal);
        w.WriteStartObject("user");
        w.WriteNumber("uid", c.Uid);
        w.WriteNumber("gid", c.Gid);
        w.WriteNumber("umask", DockerDefaults.Umask);
        w.WriteStartArray("additionalGids");
        foreach (var g in c.AdditionalGids)
        {
            w.WriteNumberValue(g);
        }

        w.WriteEndArray();
        w.WriteEndObject();
        Strings(w, "args", c.Args);
        Strings(w, "env", c.Env);
        w.WriteString("cwd", c.Cwd);
        w.WriteStartObject("capabilities");
        Strings(w, "bounding", c.Capabilities);
        Strings(w, "effective", c.Capabilities);
        Strings(w, "permitted", c.Capabilities);
        w.WriteEndObject();
        w.WriteStartArray("rlimits");
        foreach (var (type, soft, hard) in c.Rlimits)
        {
            w.WriteStartObject();
            w.WriteString("type", type);
            w.WriteNumber("hard", hard);
            w.WriteNumber("soft", soft);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteBoolean("noNewPrivileges", c.NoNewPrivileges);
        w.WriteEndObject();
    }

    private static void Linux(Utf8JsonWriter w, OciConfig c)
    {
        w.WriteStartObject("linux");
        w.WriteStartObject("resources");
        w.WriteStartArray("devices");
        foreach (var d in c.Devices)
        {
            w.WriteStartObject();
            w.WriteBoolean("allow", d.Allow);
            if (d.Type is { } t)
            {
                w.WriteString("type", t);
            }

            if (d.Major is { } major)
            {
                w.WriteNumber("major", major);
            }

            if (d.Minor is { } minor)
            {
                w.WriteNumber("minor", minor);
            }

            w.WriteString("access", d.Access);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        MiniDock.Containers.Resources.ResourcesJsonWriter.Write(w, c.Resources);
        w.WriteEndObject();
        w.WriteString("cgroupsPath", c.CgroupsPath);
        w.WriteStartArray("namespaces");
        foreach (var ns in c.Namespaces)
        {
            w.WriteStartObject();
            w.WriteString("type", ns);
            if (c.NamespacePaths.TryGetValue(ns, out var nsPath))
            {
                w.WriteString("path", nsPath);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (c.UserNamespaceMap is { } map)
        {
            Mapping(w, "uidMappings", map.HostUid, map.UidSize);
            Mapping(w, "gidMappings", map.HostGid, map.GidSize);
        }

        Strings(w, "maskedPaths", c.MaskedPaths);
        Strings(w, "readonlyPaths", c.ReadonlyPaths);
        LinuxDevices(w, c.LinuxDevices);
        if (c.Seccomp is { } seccomp)
        {
            Seccomp(w, seccomp);
        }

        w.WriteEndObject();
    }

    /// <summary>One range of config-linux.md#user-namespace-mappings: container id 0 is <paramref name="hostId"/>.</summary>
    private static void Mapping(Utf8JsonWriter w, string name, uint hostId, uint size)
    {
        w.WriteStartArray(name);
        w.WriteStartObject();
        w.WriteNumber("containerID", 0);
        w.WriteNumber("hostID", hostId);
        w.WriteNumber("size", size);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static void LinuxDevices(Utf8JsonWriter w, IReadOnlyList<OciDevice> devices)
    {
        if (devices.Count == 0)
        {
            return;
        }

        w.WriteStartArray("devices");
        foreach (var d in devices)
        {
            w.WriteStartObject();
            w.WriteString("path", d.Path);
            w.WriteString("type", d.Type);
            w.WriteNumber("major", d.Major);
            w.WriteNumber("minor", d.Minor);
            w.WriteNumber("fileMode", d.FileMode);
            w.WriteNumber("uid", d.Uid);
            w.WriteNumber("gid", d.Gid);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>linux.seccomp (config-linux.md#seccomp): optional fields only when set, args only on rules that have them.</summary>
    private static void Seccomp(Utf8JsonWriter w, SeccompSpec s)
    {
        w.WriteStartObject("seccomp");
        w.WriteString("defaultAction", s.DefaultAction);
        if (s.DefaultErrnoRet is { } defaultErrno)
        {
            w.WriteNumber("defaultErrnoRet", defaultErrno);
        }

        Strings(w, "architectures", s.Architectures ?? []);
        if (s.Flags is { Count: > 0 } flags)
        {
            Strings(w, "flags", flags);
        }

        if (s.ListenerPath is { Length: > 0 } listener)
        {
            w.WriteString("listenerPath", listener);
        }

        if (s.ListenerMetadata is { Length: > 0 } metadata)
        {
            w.WriteString("listenerMetadata", metadata);
        }

        w.WriteStartArray("syscalls");
        foreach (var call in s.Syscalls ?? [])
        {
            w.WriteStartObject();
            Strings(w, "names", call.Names);
            w.WriteString("action", call.Action);
            if (call.ErrnoRet is { } errno)
            {
                w.WriteNumber("errnoRet", errno);
            }

            if (call.Args is { Count: > 0 } args)
            {
                w.WriteStartArray("args");
                foreach (var a in args)
                {
                    w.WriteStartObject();
                    w.WriteNumber("index", a.Index);
                    w.WriteNumber("value", a.Value);
                    w.WriteNumber("valueTwo", a.ValueTwo);
                    w.WriteString("op", a.Op);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
    }
}
