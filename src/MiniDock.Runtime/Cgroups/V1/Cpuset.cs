using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>
/// v1 cpuset: a new cpuset cgroup starts with empty cpus and mems, and no task can join it until
/// both are set, so every directory made on the way down inherits its parent's values first.
/// </summary>
internal static class Cpuset
{
    public static void InitFromParents(string mount, string path)
    {
        var cur = mount;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var parent = cur;
            cur = System.IO.Path.Combine(cur, part);
            foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
            {
                if (File.Exists(System.IO.Path.Combine(cur, file)) && CgroupFs.Read(cur, file).Length == 0)
                {
                    CgroupFs.Write(cur, file, CgroupFs.Read(parent, file));
                }
            }
        }
    }

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
