using System.Text.Json;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// <c>events</c>: runc's event stream for one container, as JSON lines of runc's types/events.go shape
/// (<c>{"type":"stats","id":…,"data":{cpu,memory,pids,blkio,…}}</c>, <c>{"type":"oom","id":…}</c>), read from the
/// container's cgroup through <see cref="ICgroupManager.Stats"/>, so v1 and v2 give the same fields.
/// </summary>
public static class Events
{
    /// <summary>One stats event of a running (or paused) container.</summary>
    public static string Stats(StateStore store, string id)
    {
        var r = store.Load(id);
        if (store.Status(r) is ContainerStatus.Stopped or ContainerStatus.Creating)
        {
            throw new RuntimeError($"container {id} is not running");
        }

        return StatsJson(id, StateStore.Cgroup(r).Stats());
    }

    /// <summary>
    /// Without --stats: a stats event every <paramref name="interval"/> and an oom event when the OOM killer strikes,
    /// until the container stops or <paramref name="ct"/> is cancelled.
    /// </summary>
    public static void Stream(StateStore store, string id, TimeSpan interval, Action<string> emit, CancellationToken ct)
    {
        var r = store.Load(id);
        var cg = StateStore.Cgroup(r);
        var ooms = cg.OomKills();
        var next = DateTime.UtcNow;
        while (!ct.IsCancellationRequested && store.Status(r) is not ContainerStatus.Stopped)
        {
            var now = cg.OomKills();
            if (now > ooms)
            {
                ooms = now;
                emit(StateJson.Line(("type", "oom"), ("id", id)));
            }

            if (DateTime.UtcNow >= next)
            {
                emit(StatsJson(id, cg.Stats()));
                next = DateTime.UtcNow + interval;
            }

            ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds, 200)));
        }
    }

    /// <summary>runc's Stats type for the counters MiniDock reads (omitempty fields left out when zero, as Go does).</summary>
    internal static string StatsJson(string id, CgroupStats s) => System.Text.Encoding.UTF8.GetString(StateJson.Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("type", "stats");
        w.WriteString("id", id);
        w.WriteStartObject("data");
        w.WriteStartObject("cpu");
        w.WriteStartObject("usage");
        NonZero(w, "total", s.CpuUsageNs);
        w.WriteNumber("kernel", 0);
        w.WriteNumber("user", 0);
        w.WriteEndObject();
        w.WriteStartObject("throttling");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("memory");
        NonZero(w, "cache", s.InactiveFile);
        w.WriteStartObject("usage");
        w.WriteNumber("limit", s.MemoryLimit ?? ulong.MaxValue);
        NonZero(w, "usage", s.MemoryUsage);
        w.WriteNumber("failcnt", 0);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("pids");
        NonZero(w, "current", s.Pids);
        NonZero(w, "limit", s.PidsLimit ?? 0);
        w.WriteEndObject();
        w.WriteStartObject("blkio");
        if (s.BlockRead + s.BlockWrite > 0)
        {
            w.WriteStartArray("ioServiceBytesRecursive");
            Entry(w, "Read", s.BlockRead);
            Entry(w, "Write", s.BlockWrite);
            Entry(w, "Total", s.BlockRead + s.BlockWrite);
            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteStartObject("hugetlb");
        w.WriteEndObject();
        w.WriteStartObject("intel_rdt");
        w.WriteEndObject();
        w.WriteNull("network_interfaces");
        w.WriteEndObject();
        w.WriteEndObject();
    }));

    private static void NonZero(Utf8JsonWriter w, string name, ulong value)
    {
        if (value != 0)
        {
            w.WriteNumber(name, value);
        }
    }

    /// <summary>A blkio entry summed over devices: runc's per-device entries, with major/minor 0.</summary>
    private static void Entry(Utf8JsonWriter w, string op, ulong value)
    {
        w.WriteStartObject();
        w.WriteNumber("major", 0);
        w.WriteNumber("minor", 0);
        w.WriteString("op", op);
        w.WriteNumber("value", value);
        w.WriteEndObject();
    }
}
