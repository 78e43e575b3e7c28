using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 cpu controller: shares, CFS quota/period, realtime runtime/period.</summary>
internal static class Cpu
{
    public static void Apply(string dir, CpuSpec c)
    {
        if (c.Shares is { } shares && shares != 0)
        {
            CgroupFs.Write(dir, "cpu.shares", shares.ToString());
        }

        // The period first: a quota is checked against the current period.
        if (c.Period is { } period && period != 0)
        {
            CgroupFs.Write(dir, "cpu.cfs_period_us", period.ToString());
        }

        if (c.Quota is { } quota && quota != 0)
        {
            CgroupFs.Write(dir, "cpu.cfs_quota_us", quota.ToString());
        }

        if (c.RealtimePeriod is { } rtp && rtp != 0)
        {
            CgroupFs.TryWrite(dir, "cpu.rt_period_us", rtp.ToString());
        }

        if (c.RealtimeRuntime is { } rtr && rtr != 0)
        {
            CgroupFs.TryWrite(dir, "cpu.rt_runtime_us", rtr.ToString());
        }

        if (c.Idle is { } idle)
        {
            CgroupFs.TryWrite(dir, "cpu.idle", idle.ToString());
        }
    }
}
