using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 net_cls and net_prio.</summary>
internal static class Network
{
    public static void ApplyClass(string dir, NetworkSpec n)
    {
        if (n.ClassID is { } id)
        {
            CgroupFs.Write(dir, "net_cls.classid", id.ToString());
        }
    }

    public static void ApplyPriority(string dir, NetworkSpec n)
    {
        foreach (var p in n.Priorities ?? [])
        {
            CgroupFs.Write(dir, "net_prio.ifpriomap", $"{p.Name} {p.Priority}");
        }
    }
}
