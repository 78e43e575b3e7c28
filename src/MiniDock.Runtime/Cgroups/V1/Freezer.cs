namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 freezer: pause/resume by writing FROZEN/THAWED and waiting for the state to settle.</summary>
internal static class Freezer
{
    public static void Set(string dir, bool frozen)
    {
        var want = frozen ? "FROZEN" : "THAWED";
        for (var i = 0; i < 1000; i++)
        {
            CgroupFs.Write(dir, "freezer.state", want);
            if (CgroupFs.Read(dir, "freezer.state") == want)
            {
                return;
            }

            Thread.Sleep(1);
        }

        throw new RuntimeError($"freezer: {dir} did not become {want}");
    }

    public static bool IsFrozen(string dir)
    {
        try
        {
            return CgroupFs.Read(dir, "freezer.state") is "FROZEN" or "FREEZING";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
