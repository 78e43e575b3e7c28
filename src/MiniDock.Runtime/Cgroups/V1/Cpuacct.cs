namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 cpuacct: the cgroup's CPU time, which <c>stats</c> turns into Docker's CPU %.</summary>
internal static class Cpuacct
{
    /// <summary>cpuacct.usage: nanoseconds of CPU used by every task of the cgroup (and its children).</summary>
    public static ulong UsageNs(string dir) => CgroupStats.ReadNumber(dir, "cpuacct.usage");
}
