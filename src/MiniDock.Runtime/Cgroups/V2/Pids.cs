using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>v2 pids.max.</summary>
internal static class Pids
{
    public static void Apply(string dir, PidsSpec p) => CgroupFs.Write(dir, "pids.max", p.Limit > 0 ? p.Limit.ToString() : "max");
}
