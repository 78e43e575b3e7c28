using System.Text.Json;
using MiniDock.Containers.Config;

namespace MiniDock.Containers.Resources;

/// <summary>
/// The resource fields of <see cref="RunOptions"/> in the stored options JSON (<see cref="Store.RunOptionsJson"/>):
/// written only when set, so rows made before these flags existed read back unchanged.
/// </summary>
internal static class ResourceOptionsJson
{
    public static void Write(Utf8JsonWriter w, RunOptions o)
    {
        Num(w, "MemoryReservation", o.MemoryReservation);
        Num(w, "MemorySwap", o.MemorySwap);
        Num(w, "MemorySwappiness", o.MemorySwappiness);
        if (o.OomKillDisable)
        {
            w.WriteBoolean("OomKillDisable", true);
        }

        Num(w, "CpuShares", o.CpuShares);
        Num(w, "CpuPeriod", o.CpuPeriod);
        Num(w, "CpuQuota", o.CpuQuota);
        Store.RunOptionsJson.Str(w, "CpusetCpus", o.CpusetCpus);
        Store.RunOptionsJson.Str(w, "CpusetMems", o.CpusetMems);
        Num(w, "BlkioWeight", o.BlkioWeight);
    }

    public static void Read(JsonElement e, RunOptions o)
    {
        o.MemoryReservation = Num(e, "MemoryReservation");
        o.MemorySwap = Num(e, "MemorySwap");
        o.MemorySwappiness = Num(e, "MemorySwappiness");
        o.OomKillDisable = Store.RunOptionsJson.B(e, "OomKillDisable");
        o.CpuShares = Num(e, "CpuShares");
        o.CpuPeriod = Num(e, "CpuPeriod");
        o.CpuQuota = Num(e, "CpuQuota");
        o.CpusetCpus = Store.RunOptionsJson.S(e, "CpusetCpus");
        o.CpusetMems = Store.RunOptionsJson.S(e, "CpusetMems");
        o.BlkioWeight = Num(e, "BlkioWeight");
    }

    private static void Num(Utf8JsonWriter w, string name, long? v)
    {
        if (v is { } n)
        {
            w.WriteNumber(name, n);
        }
    }

    private static long? Num(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
}
