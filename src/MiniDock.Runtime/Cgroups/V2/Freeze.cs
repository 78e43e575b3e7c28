namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>v2 freeze: cgroup.freeze, then wait for cgroup.events to say frozen.</summary>
internal static class Freeze
{
    public static void Set(string dir, bool frozen)
    {
        CgroupFs.Write(dir, "cgroup.freeze", frozen ? "1" : "0");
        var want = frozen ? "frozen 1" : "frozen 0";
        for (var i = 0; i < 1000; i++)
        {
            if (File.ReadLines(System.IO.Path.Combine(dir, "cgroup.events")).Any(l => l.Trim() == want))
            {
                return;
            }

            Thread.Sleep(1);
        }

        throw new RuntimeError($"cgroup {dir} did not become {(frozen ? "frozen" : "thawed")}");
    }

    public static bool IsFrozen(string dir)
    {
        try
        {
            return CgroupFs.Read(dir, "cgroup.freeze") == "1";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
