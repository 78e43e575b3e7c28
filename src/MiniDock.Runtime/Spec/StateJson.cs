using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MiniDock.Runtime.Init;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Runtime.Spec;

/// <summary>
/// The JSON a container start writes and reads on its hot path — the OCI state, state.json, and
/// the init's config frame — written with <see cref="Utf8JsonWriter"/> and read with
/// <see cref="JsonDocument"/>. The spec travels as the bundle's own config.json bytes, verbatim.
/// Same reason as <see cref="SpecReader"/>: the serializer's first call costs milliseconds per process.
/// </summary>
public static class StateJson
{
    public static byte[] Write(OciState s, bool indented = false) => Build(w => WriteState(w, s), indented);

    /// <summary><c>list --format json</c>, shaped as runc prints it.</summary>
    public static byte[] WriteList(IEnumerable<ContainerListEntry> list) => Build(w =>
    {
        w.WriteStartArray();
        foreach (var c in list)
        {
            w.WriteStartObject();
            w.WriteString("ociVersion", c.OciVersion);
            w.WriteString("id", c.Id);
            w.WriteNumber("pid", c.Pid);
            w.WriteString("status", c.Status);
            w.WriteString("bundle", c.Bundle);
            w.WriteString("rootfs", c.Rootfs);
            w.WriteString("created", c.Created.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("owner", c.Owner);
            WriteMap(w, "annotations", c.Annotations);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    /// <summary>A JSON object from pairs of names and string values (the --log-format json lines).</summary>
    public static string Line(params (string Name, string Value)[] fields) => System.Text.Encoding.UTF8.GetString(Build(w =>
    {
        w.WriteStartObject();
        foreach (var (n, v) in fields)
        {
            w.WriteString(n, v);
        }

        w.WriteEndObject();
    }));

    public static byte[] Build(Action<Utf8JsonWriter> write, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(w);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMap(Utf8JsonWriter w, string name, Dictionary<string, string>? map)
    {
        if (map is not { Count: > 0 })
        {
            return;
        }

        w.WriteStartObject(name);
        foreach (var (k, v) in map)
        {
            w.WriteString(k, v);
        }

        w.WriteEndObject();
    }

    public static byte[] Write(ContainerRecord r) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id);
        w.WriteString("bundle", r.Bundle);
        w.WriteString("rootfs", r.Rootfs);
        w.WriteNumber("pid", r.Pid);
        w.WriteNumber("initStartTime", r.InitStartTime);
        w.WriteString("status", r.Status);
        w.WriteString("created", r.Created.ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("owner", r.Owner);
        w.WriteString("cgroupPath", r.CgroupPath);
        w.WriteStartArray("cgroupCreated");
        foreach (var c in r.CgroupCreated)
        {
            w.WriteStringValue(c);
        }

        w.WriteEndArray();
        w.WritePropertyName("spec");
        w.WriteRawValue(r.SpecJson, skipInputValidation: true);
        w.WriteEndObject();
    });

    public static ContainerRecord ReadRecord(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        var spec = e.GetProperty("spec");
        return new ContainerRecord
        {
            Id = e.GetProperty("id").GetString()!,
            Bundle = e.GetProperty("bundle").GetString()!,
            Rootfs = e.GetProperty("rootfs").GetString()!,
            Pid = e.GetProperty("pid").GetInt32(),
            InitStartTime = e.GetProperty("initStartTime").GetUInt64(),
            Status = e.GetProperty("status").GetString()!,
            Created = DateTime.Parse(e.GetProperty("created").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Owner = e.GetProperty("owner").GetString()!,
            CgroupPath = e.GetProperty("cgroupPath").GetString()!,
            CgroupCreated = e.GetProperty("cgroupCreated").EnumerateArray().Select(x => x.GetString()!).ToList(),
            SpecJson = System.Text.Encoding.UTF8.GetBytes(spec.GetRawText()),
            Spec = SpecReader.Read(spec),
        };
    }

    public static byte[] Write(InitMessage m) => Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", m.Type);
        if (m.Text is not null)
        {
            w.WriteString("text", m.Text);
        }

        if (m.SpecJson is { } spec)
        {
            w.WriteString("id", m.Id);
            w.WriteString("bundle", m.Bundle);
            w.WriteString("rootfs", m.Rootfs);
            w.WriteString("fifoPath", m.FifoPath);
            w.WriteString("cgroupPath", m.CgroupPath);
            w.WriteNumber("hostPid", m.HostPid);
            w.WriteBoolean("trace", m.Trace);
            w.WriteNumber("traceStart", m.TraceStart);
            w.WriteBoolean("consoleSocket", m.ConsoleSocket);
            w.WriteNumber("preserveFds", m.PreserveFds);
            w.WritePropertyName("spec");
            w.WriteRawValue(spec, skipInputValidation: true);
        }

        if (m.SeccompProgram is { } program)
        {
            w.WriteBase64String("seccompProgram", program);
            w.WriteNumber("seccompFlags", m.SeccompFlags);
        }

        if (m.ProcessJson is { } process)
        {
            w.WriteBoolean("chroot", m.Chroot);
            w.WritePropertyName("process");
            w.WriteRawValue(process, skipInputValidation: true);
        }

        w.WriteEndObject();
    });

    public static InitMessage ReadInitMessage(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = doc.RootElement;
        var m = new InitMessage
        {
            Type = e.GetProperty("type").GetString()!,
            Text = e.TryGetProperty("text", out var t) ? t.GetString() : null,
        };
        if (e.TryGetProperty("spec", out var spec))
        {
            m.Spec = SpecReader.Read(spec);
            m.Id = e.GetProperty("id").GetString();
            m.Bundle = e.GetProperty("bundle").GetString();
            m.Rootfs = e.GetProperty("rootfs").GetString();
            m.FifoPath = e.GetProperty("fifoPath").GetString();
            m.CgroupPath = e.GetProperty("cgroupPath").GetString();
            m.HostPid = e.GetProperty("hostPid").GetInt32();
            m.Trace = e.GetProperty("trace").GetBoolean();
            m.TraceStart = e.GetProperty("traceStart").GetInt64();
            m.ConsoleSocket = e.GetProperty("consoleSocket").GetBoolean();
            m.PreserveFds = e.GetProperty("preserveFds").GetInt32();
        }

        if (e.TryGetProperty("seccompProgram", out var program))
        {
            m.SeccompProgram = program.GetBytesFromBase64();
            m.SeccompFlags = e.GetProperty("seccompFlags").GetUInt32();
        }

        if (e.TryGetProperty("process", out var process))
        {
            m.Process = SpecReader.Process(process);
            m.Chroot = e.GetProperty("chroot").GetBoolean();
        }

        return m;
    }

    /// <summary>
    /// A process object as config.json spells it (config.md#process), read back by
    /// <see cref="SpecReader.Process"/>: exec hands it to the helper it starts in a user namespace.
    /// </summary>
    public static byte[] WriteProcess(ProcessSpec p) => Build(w =>
    {
        static void Strings(Utf8JsonWriter w, string name, IEnumerable<string>? items)
        {
            if (items is null)
            {
                return;
            }

            w.WriteStartArray(name);
            foreach (var i in items)
            {
                w.WriteStringValue(i);
            }

            w.WriteEndArray();
        }

        w.WriteStartObject();
        w.WriteBoolean("terminal", p.Terminal);
        if (p.ConsoleSize is { } cs)
        {
            w.WriteStartObject("consoleSize");
            w.WriteNumber("height", cs.Height);
            w.WriteNumber("width", cs.Width);
            w.WriteEndObject();
        }

        w.WriteStartObject("user");
        w.WriteNumber("uid", p.User.Uid);
        w.WriteNumber("gid", p.User.Gid);
        if (p.User.Umask is { } umask)
        {
            w.WriteNumber("umask", umask);
        }

        if (p.User.AdditionalGids is { } gids)
        {
            w.WriteStartArray("additionalGids");
            foreach (var g in gids)
            {
                w.WriteNumberValue(g);
            }

            w.WriteEndArray();
        }

        if (p.User.Username is { } username)
        {
            w.WriteString("username", username);
        }

        w.WriteEndObject();
        Strings(w, "args", p.Args);
        Strings(w, "env", p.Env);
        w.WriteString("cwd", p.Cwd);
        if (p.Capabilities is { } caps)
        {
            w.WriteStartObject("capabilities");
            Strings(w, "bounding", caps.Bounding);
            Strings(w, "effective", caps.Effective);
            Strings(w, "inheritable", caps.Inheritable);
            Strings(w, "permitted", caps.Permitted);
            Strings(w, "ambient", caps.Ambient);
            w.WriteEndObject();
        }

        if (p.Rlimits is { } rlimits)
        {
            w.WriteStartArray("rlimits");
            foreach (var r in rlimits)
            {
                w.WriteStartObject();
                w.WriteString("type", r.Type);
                w.WriteNumber("hard", r.Hard);
                w.WriteNumber("soft", r.Soft);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteBoolean("noNewPrivileges", p.NoNewPrivileges);
        if (p.ApparmorProfile is { } aa)
        {
            w.WriteString("apparmorProfile", aa);
        }

        if (p.OomScoreAdj is { } oom)
        {
            w.WriteNumber("oomScoreAdj", oom);
        }

        if (p.SelinuxLabel is { } se)
        {
            w.WriteString("selinuxLabel", se);
        }

        w.WriteEndObject();
    });

    private static void WriteState(Utf8JsonWriter w, OciState s)
    {
        w.WriteStartObject();
        w.WriteString("ociVersion", s.OciVersion);
        w.WriteString("id", s.Id);
        w.WriteString("status", s.Status);
        w.WriteNumber("pid", s.Pid);
        w.WriteString("bundle", s.Bundle);
        WriteMap(w, "annotations", s.Annotations);
        w.WriteEndObject();
    }
}
