using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>v2 cpuset: cpuset.cpus and cpuset.mems (empty means "inherit", unlike v1).</summary>
internal static class Cpuset
{
    public static void Apply(string dir, CpuSpec c)
    {
        if (!string.IsNullOrEmpty(c.Cpus))
        {
            CgroupFs.Write(dir, "cpuset.cpus", c.Cpus);
        }

        if (!string.IsNullOrEmpty(c.Mems))
        {
            CgroupFs.Write(dir, "cpuset.mems", c.Mems);
        }
    }
}
