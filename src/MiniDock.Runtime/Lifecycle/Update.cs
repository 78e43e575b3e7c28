using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// runc's <c>update</c> (https://github.com/opencontainers/runc/blob/main/man/runc-update.8.md): changes the cgroup
/// limits of a created, running or paused container. The new values are merged into the spec kept in state.json,
/// written through <see cref="Cgroups.ICgroupManager.Set"/> (whose controller writers are safe to call again, v1
/// memory/memsw ordering included), and saved, so a later <c>update</c> or <c>state</c> sees them.
/// </summary>
/// <remarks>
/// As runc, only these fields are updatable: memory limit/reservation/swap/kernel/kernelTCP, cpu shares/quota/period/
/// realtime runtime and period/cpus/mems/idle, pids.limit, blockIO.weight and unified; anything else in a
/// <c>--resources</c> file is ignored. Only the sections the patch touches are written, so an update of pids never
/// rewrites the device allowlist of a running container.
/// </remarks>
public static class Update
{
    /// <summary>Merges <paramref name="patch"/> (null fields: unchanged) and applies it; returns the saved record.</summary>
    public static ContainerRecord Run(StateStore store, string id, ResourcesSpec patch, Trace trace)
    {
        using var _ = store.Lock(id);
        var r = store.Load(id);
        ContainerStateMachine.Require(id, store.Status(r), LifecycleOp.Update);
        var linux = r.Spec.Linux ??= new LinuxSpec();
        var merged = linux.Resources ??= new ResourcesSpec();
        var apply = Merge(merged, patch);
        StateStore.Cgroup(r).Set(apply, null);
        trace.Step($"cgroup {r.CgroupPath} updated");
        r.SpecJson = PatchSpecJson(r.SpecJson, merged, patch);
        store.Save(r);
        trace.Step($"container {id} updated");
        return r;
    }

    /// <summary>
    /// Copies the patch's updatable fields into <paramref name="current"/> and returns what to write: each touched
    /// section with its merged values (v1 memory needs limit and swap together to order its writes).
    /// </summary>
    internal static ResourcesSpec Merge(ResourcesSpec current, ResourcesSpec patch)
    {
        var apply = new ResourcesSpec();
        if (patch.Memory is { } pm)
        {
            var m = current.Memory ??= new MemorySpec();
            m.Limit = pm.Limit ?? m.Limit;
            m.Reservation = pm.Reservation ?? m.Reservation;
            m.Swap = pm.Swap ?? m.Swap;
            m.Kernel = pm.Kernel ?? m.Kernel;
            m.KernelTCP = pm.KernelTCP ?? m.KernelTCP;
            apply.Memory = new MemorySpec { Limit = m.Limit, Reservation = m.Reservation, Swap = m.Swap, KernelTCP = pm.KernelTCP };
        }

        if (patch.Cpu is { } pc)
        {
            var c = current.Cpu ??= new CpuSpec();
            c.Overlay(pc);

            // Only what was asked for, plus the quota/period pair (one write on v2, checked together on v1).
            apply.Cpu = new CpuSpec
            {
                Shares = pc.Shares,
                Quota = pc.Quota is not null || pc.Period is not null ? c.Quota : null,
                Period = pc.Quota is not null || pc.Period is not null ? c.Period : null,
                RealtimeRuntime = pc.RealtimeRuntime,
                RealtimePeriod = pc.RealtimePeriod,
                Cpus = pc.Cpus,
                Mems = pc.Mems,
                Idle = pc.Idle,
            };
        }

        if (patch.Pids is { } pp)
        {
            current.Pids = new PidsSpec { Limit = pp.Limit };
            apply.Pids = new PidsSpec { Limit = pp.Limit };
        }

        if (patch.BlockIO?.Weight is { } w)
        {
            (current.BlockIO ??= new BlockIoSpec()).Weight = w;
            apply.BlockIO = new BlockIoSpec { Weight = w };
        }

        if (patch.Unified is { Count: > 0 } u)
        {
            current.Unified ??= [];
            foreach (var (k, v) in u)
            {
                current.Unified[k] = v;
            }

            apply.Unified = u;
        }

        return apply;
    }

    /// <summary>
    /// The spec JSON kept in state.json, with linux.resources' updated fields replaced and everything else kept
    /// byte for byte as the bundle had it (fields this engine does not model survive).
    /// </summary>
    internal static byte[] PatchSpecJson(byte[] specJson, ResourcesSpec merged, ResourcesSpec patch)
    {
        var root = JsonNode.Parse(specJson) as JsonObject ?? throw new RuntimeError("state.json: spec is not an object");
        var linux = Obj(root, "linux");
        var res = Obj(linux, "resources");
        if (patch.Memory is not null && merged.Memory is { } m)
        {
            var o = Obj(res, "memory");
            Set(o, "limit", m.Limit);
            Set(o, "reservation", m.Reservation);
            Set(o, "swap", m.Swap);
            Set(o, "kernel", m.Kernel);
            Set(o, "kernelTCP", m.KernelTCP);
        }

        if (patch.Cpu is not null && merged.Cpu is { } c)
        {
            var o = Obj(res, "cpu");
            Set(o, "shares", c.Shares);
            Set(o, "quota", c.Quota);
            Set(o, "period", c.Period);
            Set(o, "realtimeRuntime", c.RealtimeRuntime);
            Set(o, "realtimePeriod", c.RealtimePeriod);
            if (c.Cpus is not null)
            {
                o["cpus"] = c.Cpus;
            }

            if (c.Mems is not null)
            {
                o["mems"] = c.Mems;
            }

            Set(o, "idle", c.Idle);
        }

        if (patch.Pids is not null && merged.Pids is { } p)
        {
            Obj(res, "pids")["limit"] = p.Limit;
        }

        if (patch.BlockIO?.Weight is not null && merged.BlockIO?.Weight is { } w)
        {
            Obj(res, "blockIO")["weight"] = w;
        }

        if (patch.Unified is { Count: > 0 } && merged.Unified is { } u)
        {
            var o = Obj(res, "unified");
            foreach (var (k, v) in u)
            {
                o[k] = v;
            }
        }

        var buffer = new ArrayBufferWriter<byte>(specJson.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            root.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static JsonObject Obj(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject o)
        {
            return o;
        }

        var made = new JsonObject();
        parent[name] = made;
        return made;
    }

    private static void Set(JsonObject o, string name, long? v)
    {
        if (v is { } n)
        {
            o[name] = n;
        }
    }

    private static void Set(JsonObject o, string name, ulong? v)
    {
        if (v is { } n)
        {
            o[name] = n;
        }
    }
}
