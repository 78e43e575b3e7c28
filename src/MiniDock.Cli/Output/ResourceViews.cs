using System.Text.Json;
using MiniDock.Containers.Config;

namespace MiniDock.Cli.Output;

/// <summary>
/// inspect's HostConfig resource fields beyond Memory/NanoCpus/PidsLimit, with Docker's names and zero values
/// (https://docs.docker.com/reference/api/engine/ HostConfig): 0 or "" for unset, null swappiness when not given.
/// </summary>
internal static class ResourceViews
{
    public static void WriteHostConfig(Utf8JsonWriter w, RunOptions o)
    {
        w.WriteNumber("CpuShares", o.CpuShares ?? 0);
        w.WriteNumber("CpuPeriod", o.CpuPeriod ?? 0);
        w.WriteNumber("CpuQuota", o.CpuQuota ?? 0);
        w.WriteString("CpusetCpus", o.CpusetCpus ?? "");
        w.WriteString("CpusetMems", o.CpusetMems ?? "");
        w.WriteNumber("BlkioWeight", o.BlkioWeight ?? 0);
        w.WriteNumber("MemoryReservation", o.MemoryReservation ?? 0);
        w.WriteNumber("MemorySwap", o.MemorySwap ?? 0);
        if (o.MemorySwappiness is { } sw)
        {
            w.WriteNumber("MemorySwappiness", sw);
        }
        else
        {
            w.WriteNull("MemorySwappiness");
        }

        w.WriteBoolean("OomKillDisable", o.OomKillDisable);
    }
}
