using System.Text.Json;

namespace MiniDock.Runtime.Spec;

/// <summary>
/// Reads config.json into <see cref="RuntimeSpec"/> over a <see cref="JsonDocument"/>, by hand.
/// Why not the source-generated serializer: its first call in a process builds metadata for every
/// type of the spec and costs 4–10 ms under NativeAOT (measured: JsonDocument takes 0.4 ms), and a
/// container start parses the spec in two fresh processes (the runtime and the init). Field names
/// are the spec's (config.md, config-linux.md); unknown fields are ignored, as the spec requires.
/// </summary>
public static class SpecReader
{
    public static RuntimeSpec Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            return Read(doc.RootElement);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public static RuntimeSpec Read(JsonElement e)
    {
        Expect(e, JsonValueKind.Object, "config");
        return new RuntimeSpec
        {
            OciVersion = Str(e, "ociVersion") ?? "",
            Process = Obj(e, "process") is { } p ? Process(p) : null,
            Root = Obj(e, "root") is { } r ? new RootSpec { Path = Str(r, "path") ?? "", Readonly = Bool(r, "readonly") } : null,
            Hostname = Str(e, "hostname"),
            Domainname = Str(e, "domainname"),
            Mounts = List(e, "mounts", m => new MountSpec { Destination = Str(m, "destination") ?? "", Type = Str(m, "type"), Source = Str(m, "source"), Options = Strings(m, "options") }),
            Hooks = Obj(e, "hooks") is { } h ? Hooks(h) : null,
            Annotations = Map(e, "annotations"),
            Linux = Obj(e, "linux") is { } l ? Linux(l) : null,
        };
    }

    public static ProcessSpec Process(JsonElement p) => new()
    {
        Terminal = Bool(p, "terminal"),
        ConsoleSize = Obj(p, "consoleSize") is { } c ? new ConsoleSize { Height = (ushort)U64(c, "height"), Width = (ushort)U64(c, "width") } : null,
        User = Obj(p, "user") is { } u
            ? new UserSpec { Uid = (uint)U64(u, "uid"), Gid = (uint)U64(u, "gid"), Umask = OptU64(u, "umask") is { } m ? (uint)m : null, AdditionalGids = List(u, "additionalGids", g => g.GetUInt32()), Username = Str(u, "username") }
            : new UserSpec(),
        Args = Strings(p, "args"),
        Env = Strings(p, "env"),
        Cwd = Str(p, "cwd") ?? "/",
        Capabilities = Obj(p, "capabilities") is { } caps
            ? new CapabilitiesSpec { Bounding = Strings(caps, "bounding"), Effective = Strings(caps, "effective"), Inheritable = Strings(caps, "inheritable"), Permitted = Strings(caps, "permitted"), Ambient = Strings(caps, "ambient") }
            : null,
        Rlimits = List(p, "rlimits", r => new RlimitSpec { Type = Str(r, "type") ?? "", Hard = U64(r, "hard"), Soft = U64(r, "soft") }),
        NoNewPrivileges = Bool(p, "noNewPrivileges"),
        ApparmorProfile = Str(p, "apparmorProfile"),
        OomScoreAdj = OptI64(p, "oomScoreAdj") is { } o ? (int)o : null,
        SelinuxLabel = Str(p, "selinuxLabel"),
    };

    private static HooksSpec Hooks(JsonElement h)
    {
        List<HookSpec>? Kind(string name) => List(h, name, x => new HookSpec { Path = Str(x, "path") ?? "", Args = Strings(x, "args"), Env = Strings(x, "env"), Timeout = OptI64(x, "timeout") is { } t ? (int)t : null });
        return new HooksSpec
        {
            Prestart = Kind("prestart"),
            CreateRuntime = Kind("createRuntime"),
            CreateContainer = Kind("createContainer"),
            StartContainer = Kind("startContainer"),
            Poststart = Kind("poststart"),
            Poststop = Kind("poststop"),
        };
    }

    private static LinuxSpec Linux(JsonElement l) => new()
    {
        UidMappings = List(l, "uidMappings", IdMap),
        GidMappings = List(l, "gidMappings", IdMap),
        Sysctl = Map(l, "sysctl"),
        Resources = Obj(l, "resources") is { } r ? Resources(r) : null,
        CgroupsPath = Str(l, "cgroupsPath"),
        Namespaces = List(l, "namespaces", n => new NamespaceSpec { Type = Str(n, "type") ?? "", Path = Str(n, "path") }),
        Devices = List(l, "devices", d => new DeviceSpec
        {
            Type = Str(d, "type") ?? "",
            Path = Str(d, "path") ?? "",
            Major = OptI64(d, "major") ?? 0,
            Minor = OptI64(d, "minor") ?? 0,
            FileMode = OptU64(d, "fileMode") is { } fm ? (uint)fm : null,
            Uid = OptU64(d, "uid") is { } du ? (uint)du : null,
            Gid = OptU64(d, "gid") is { } dg ? (uint)dg : null,
        }),
        Seccomp = Obj(l, "seccomp") is { } s ? Seccomp(s) : null,
        RootfsPropagation = Str(l, "rootfsPropagation"),
        MaskedPaths = Strings(l, "maskedPaths"),
        ReadonlyPaths = Strings(l, "readonlyPaths"),
        MountLabel = Str(l, "mountLabel"),
    };

    private static IdMapping IdMap(JsonElement m) => new() { ContainerID = (uint)U64(m, "containerID"), HostID = (uint)U64(m, "hostID"), Size = (uint)U64(m, "size") };

    private static SeccompSpec Seccomp(JsonElement s) => new()
    {
        DefaultAction = Str(s, "defaultAction") ?? "",
        DefaultErrnoRet = OptU64(s, "defaultErrnoRet") is { } d ? (uint)d : null,
        Architectures = Strings(s, "architectures"),
        Flags = Strings(s, "flags"),
        ListenerPath = Str(s, "listenerPath"),
        ListenerMetadata = Str(s, "listenerMetadata"),
        Syscalls = List(s, "syscalls", c => new SeccompSyscall
        {
            Names = Strings(c, "names") ?? [],
            Action = Str(c, "action") ?? "",
            ErrnoRet = OptU64(c, "errnoRet") is { } er ? (uint)er : null,
            Args = List(c, "args", a => new SeccompArg { Index = (uint)U64(a, "index"), Value = U64(a, "value"), ValueTwo = U64(a, "valueTwo"), Op = Str(a, "op") ?? "" }),
        }),
    };

    /// <summary>A linux.resources object on its own: what runc's <c>update --resources FILE</c> reads.</summary>
    public static ResourcesSpec ReadResources(JsonElement r) => r.ValueKind == JsonValueKind.Object ? Resources(r) : throw new JsonException("resources must be a JSON object");

    private static ResourcesSpec Resources(JsonElement r) => new()
    {
        Devices = List(r, "devices", d => new DeviceCgroupRule { Allow = Bool(d, "allow"), Type = Str(d, "type"), Major = OptI64(d, "major"), Minor = OptI64(d, "minor"), Access = Str(d, "access") }),
        Memory = Obj(r, "memory") is { } m
            ? new MemorySpec
            {
                Limit = OptI64(m, "limit"),
                Reservation = OptI64(m, "reservation"),
                Swap = OptI64(m, "swap"),
                Kernel = OptI64(m, "kernel"),
                KernelTCP = OptI64(m, "kernelTCP"),
                Swappiness = OptU64(m, "swappiness"),
                DisableOOMKiller = OptBool(m, "disableOOMKiller"),
                UseHierarchy = OptBool(m, "useHierarchy"),
            }
            : null,
        Cpu = Obj(r, "cpu") is { } c
            ? new CpuSpec
            {
                Shares = OptU64(c, "shares"),
                Quota = OptI64(c, "quota"),
                Period = OptU64(c, "period"),
                RealtimeRuntime = OptI64(c, "realtimeRuntime"),
                RealtimePeriod = OptU64(c, "realtimePeriod"),
                Cpus = Str(c, "cpus"),
                Mems = Str(c, "mems"),
                Idle = OptI64(c, "idle"),
            }
            : null,
        Pids = Obj(r, "pids") is { } p ? new PidsSpec { Limit = OptI64(p, "limit") ?? 0 } : null,
        BlockIO = Obj(r, "blockIO") is { } b ? BlockIo(b) : null,
        HugepageLimits = List(r, "hugepageLimits", h => new HugepageLimit { PageSize = Str(h, "pageSize") ?? "", Limit = U64(h, "limit") }),
        Network = Obj(r, "network") is { } n
            ? new NetworkSpec { ClassID = OptU64(n, "classID") is { } id ? (uint)id : null, Priorities = List(n, "priorities", x => new NetPriority { Name = Str(x, "name") ?? "", Priority = (uint)U64(x, "priority") }) }
            : null,
        Unified = Map(r, "unified"),
    };

    private static BlockIoSpec BlockIo(JsonElement b)
    {
        List<ThrottleDevice>? Throttle(string name) => List(b, name, t => new ThrottleDevice { Major = OptI64(t, "major") ?? 0, Minor = OptI64(t, "minor") ?? 0, Rate = U64(t, "rate") });
        return new BlockIoSpec
        {
            Weight = OptU64(b, "weight") is { } w ? (ushort)w : null,
            LeafWeight = OptU64(b, "leafWeight") is { } lw ? (ushort)lw : null,
            WeightDevice = List(b, "weightDevice", d => new WeightDevice
            {
                Major = OptI64(d, "major") ?? 0,
                Minor = OptI64(d, "minor") ?? 0,
                Weight = OptU64(d, "weight") is { } dw ? (ushort)dw : null,
                LeafWeight = OptU64(d, "leafWeight") is { } dl ? (ushort)dl : null,
            }),
            ThrottleReadBpsDevice = Throttle("throttleReadBpsDevice"),
            ThrottleWriteBpsDevice = Throttle("throttleWriteBpsDevice"),
            ThrottleReadIOPSDevice = Throttle("throttleReadIOPSDevice"),
            ThrottleWriteIOPSDevice = Throttle("throttleWriteIOPSDevice"),
        };
    }

    private static JsonElement? Obj(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? Expect(v, JsonValueKind.Object, name) : null;

    private static string? Str(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? Expect(v, JsonValueKind.String, name).GetString() : null;

    private static bool Bool(JsonElement e, string name) => OptBool(e, name) ?? false;

    private static bool? OptBool(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw new JsonException($"\"{name}\" must be true or false") }
            : null;

    private static ulong U64(JsonElement e, string name) => OptU64(e, name) ?? 0;

    private static ulong? OptU64(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? Expect(v, JsonValueKind.Number, name).TryGetUInt64(out var n) ? n : throw new JsonException($"\"{name}\" must be a non-negative integer")
            : null;

    private static long? OptI64(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? Expect(v, JsonValueKind.Number, name).TryGetInt64(out var n) ? n : throw new JsonException($"\"{name}\" must be an integer")
            : null;

    private static List<string>? Strings(JsonElement e, string name) => List(e, name, x => Expect(x, JsonValueKind.String, name).GetString()!);

    private static List<T>? List<T>(JsonElement e, string name, Func<JsonElement, T> item)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        Expect(v, JsonValueKind.Array, name);
        var list = new List<T>(v.GetArrayLength());
        foreach (var x in v.EnumerateArray())
        {
            list.Add(item(x));
        }

        return list;
    }

    private static Dictionary<string, string>? Map(JsonElement e, string name)
    {
        if (Obj(e, name) is not { } o)
        {
            return null;
        }

        var map = new Dictionary<string, string>();
        foreach (var p in o.EnumerateObject())
        {
            map[p.Name] = Expect(p.Value, JsonValueKind.String, p.Name).GetString()!;
        }

        return map;
    }

    private static JsonElement Expect(JsonElement v, JsonValueKind kind, string name)
        => v.ValueKind == kind ? v : throw new JsonException($"\"{name}\" must be {kind.ToString().ToLowerInvariant()}, not {v.ValueKind.ToString().ToLowerInvariant()}");
}
