using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 hugetlb limits (absent on this machine's kernel: then a requested limit is an error).</summary>
internal static class Hugetlb
{
    public static void Apply(string dir, IReadOnlyList<HugepageLimit> limits)
    {
        foreach (var l in limits)
        {
            CgroupFs.Write(dir, $"hugetlb.{l.PageSize}.limit_in_bytes", l.Limit.ToString());
        }
    }
}
