using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>v2 cpu: cpu.weight (converted from v1 shares as runc does) and cpu.max "quota period".</summary>
internal static class Cpu
{
    /// <summary>Maps shares [2, 262144] onto weight [1, 10000] (runc's ConvertCPUSharesToCgroupV2Value).</summary>
    public static ulong SharesToWeight(ulong shares) => shares == 0 ? 0 : 1 + ((shares - 2) * 9999 / 262142);

    /// <summary>cpu.stat's <c>usage_usec</c> in nanoseconds (the file exists even without the cpu controller).</summary>
    public static ulong UsageNs(string dir) => (ulong)Math.Max(0, CgroupFs.KeyedValue(System.IO.Path.Combine(dir, "cpu.stat"), "usage_usec")) * 1000;

    public static void Apply(string dir, CpuSpec c)
    {
        if (c.Shares is { } shares && shares != 0)
        {
            CgroupFs.Write(dir, "cpu.weight", SharesToWeight(shares).ToString());
        }

        if (c.Quota is not null || c.Period is not null)
        {
            var period = c.Period is { } p && p != 0 ? p : 100000;
            var quota = c.Quota is { } q && q > 0 ? q.ToString() : "max";
            CgroupFs.Write(dir, "cpu.max", $"{quota} {period}");
        }

        if (c.Idle is { } idle)
        {
            CgroupFs.TryWrite(dir, "cpu.idle", idle.ToString());
        }
    }
}
