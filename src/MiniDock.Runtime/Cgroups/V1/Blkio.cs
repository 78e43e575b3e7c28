using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 blkio: weights (CFQ or BFQ files, whichever this kernel has) and throttles.</summary>
internal static class Blkio
{
    public static void Apply(string dir, BlockIoSpec b)
    {
        if (b.Weight is { } w && !CgroupFs.TryWrite(dir, "blkio.weight", w.ToString()) && !CgroupFs.TryWrite(dir, "blkio.bfq.weight", w.ToString()))
        {
            throw new RuntimeError("blockIO.weight: this kernel's blkio controller has no weight file (no CFQ/BFQ scheduler)");
        }

        if (b.LeafWeight is { } lw)
        {
            CgroupFs.TryWrite(dir, "blkio.leaf_weight", lw.ToString());
        }

        foreach (var d in b.WeightDevice ?? [])
        {
            if (d.Weight is { } dw)
            {
                if (!CgroupFs.TryWrite(dir, "blkio.weight_device", $"{d.Major}:{d.Minor} {dw}"))
                {
                    CgroupFs.TryWrite(dir, "blkio.bfq.weight_device", $"{d.Major}:{d.Minor} {dw}");
                }
            }

            if (d.LeafWeight is { } dlw)
            {
                CgroupFs.TryWrite(dir, "blkio.leaf_weight_device", $"{d.Major}:{d.Minor} {dlw}");
            }
        }

        Throttle(dir, "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice);
        Throttle(dir, "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice);
        Throttle(dir, "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice);
        Throttle(dir, "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice);
    }

    /// <summary>
    /// Bytes read and written, from the first service-bytes file with device lines, in runc's order: CFQ's
    /// blkio.io_service_bytes_recursive, BFQ's, then the throttle layer's (which every blk-mq kernel counts).
    /// </summary>
    public static (ulong Read, ulong Write) Stats(string dir)
    {
        foreach (var file in new[] { "blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes" })
        {
            var lines = CgroupStats.Lines(dir, file).Where(l => l.Contains(':', StringComparison.Ordinal)).ToList();
            if (lines.Count > 0)
            {
                return CgroupStats.ParseIoServiceBytes(lines);
            }
        }

        return (0, 0);
    }

    private static void Throttle(string dir, string file, List<ThrottleDevice>? list)
    {
        foreach (var t in list ?? [])
        {
            CgroupFs.Write(dir, file, $"{t.Major}:{t.Minor} {t.Rate}");
        }
    }
}
