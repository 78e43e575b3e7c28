using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>v2 io: weight (converted from blkio's [10,1000] to [1,10000]) and io.max throttles.</summary>
internal static class Io
{
    public static ulong BlkioWeightToIoWeight(ulong w) => w == 0 ? 0 : 1 + ((w - 10) * 9999 / 990);

    public static void Apply(string dir, BlockIoSpec b)
    {
        if (b.Weight is { } w && w != 0)
        {
            if (!CgroupFs.TryWrite(dir, "io.weight", BlkioWeightToIoWeight(w).ToString()) && !CgroupFs.TryWrite(dir, "io.bfq.weight", w.ToString()))
            {
                throw new RuntimeError("blockIO.weight: no io.weight file on this host");
            }
        }

        Max(dir, "rbps", b.ThrottleReadBpsDevice);
        Max(dir, "wbps", b.ThrottleWriteBpsDevice);
        Max(dir, "riops", b.ThrottleReadIOPSDevice);
        Max(dir, "wiops", b.ThrottleWriteIOPSDevice);
    }

    /// <summary>io.stat's rbytes and wbytes, summed over devices.</summary>
    public static (ulong Read, ulong Write) Stats(string dir) => CgroupStats.ParseIoStat(CgroupStats.Lines(dir, "io.stat"));

    private static void Max(string dir, string key, List<ThrottleDevice>? list)
    {
        foreach (var t in list ?? [])
        {
            CgroupFs.Write(dir, "io.max", $"{t.Major}:{t.Minor} {key}={t.Rate}");
        }
    }
}
