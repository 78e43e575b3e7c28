using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 pids controller (the v2 file has the same name and format).</summary>
internal static class Pids
{
    public static void Apply(string dir, PidsSpec p) => CgroupFs.Write(dir, "pids.max", p.Limit > 0 ? p.Limit.ToString() : "max");

    /// <summary>pids.current and pids.max (null: "max").</summary>
    public static (ulong Current, ulong? Limit) Stats(string dir) => (CgroupStats.ReadNumber(dir, "pids.current"), CgroupStats.ReadLimit(dir, "pids.max"));
}
