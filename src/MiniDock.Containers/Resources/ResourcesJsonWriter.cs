using System.Text.Json;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Resources;

/// <summary>
/// linux.resources' memory, cpu, pids and blockIO objects of config.json (config-linux.md#control-groups), written
/// by hand as the rest of config.json is (<see cref="Config.ConfigJsonWriter"/>); only the fields that were asked for.
/// </summary>
internal static class ResourcesJsonWriter
{
    public static void Write(Utf8JsonWriter w, ResourcesSpec? r)
    {
        if (r?.Memory is { } m)
        {
            w.WriteStartObject("memory");
            Num(w, "limit", m.Limit);
            Num(w, "reservation", m.Reservation);
            Num(w, "swap", m.Swap);
            if (m.Swappiness is { } sw)
            {
                w.WriteNumber("swappiness", sw);
            }

            if (m.DisableOOMKiller is { } d)
            {
                w.WriteBoolean("disableOOMKiller", d);
            }

            w.WriteEndObject();
        }

        if (r?.Cpu is { } c)
        {
            w.WriteStartObject("cpu");
            if (c.Shares is { } shares)
            {
                w.WriteNumber("shares", shares);
            }

            Num(w, "quota", c.Quota);
            if (c.Period is { } period)
            {
                w.WriteNumber("period", period);
            }

            if (c.Cpus is { } cpus)
            {
                w.WriteString("cpus", cpus);
            }

            if (c.Mems is { } mems)
            {
                w.WriteString("mems", mems);
            }

            w.WriteEndObject();
        }

        if (r?.Pids is { } p)
        {
            w.WriteStartObject("pids");
            w.WriteNumber("limit", p.Limit);
            w.WriteEndObject();
        }

        if (r?.BlockIO?.Weight is { } weight)
        {
            w.WriteStartObject("blockIO");
            w.WriteNumber("weight", weight);
            w.WriteEndObject();
        }
    }

    private static void Num(Utf8JsonWriter w, string name, long? v)
    {
        if (v is { } n)
        {
            w.WriteNumber(name, n);
        }
    }
}
