namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>v1 freezer: pause/resume by writing FROZEN/THAWED and waiting for the state to settle.</summary>
internal static class Freezer
{
    public static void Set(string dir, bool frozen)
    {
        var want = frozen ? "FROZEN" : "THAWED";
        for (var i = 0; i < 1000; i++)
        {
            try
            {
                CgroupFs.Write(dir, "freezer.state", want);
                if (CgroupFs.Read(dir, "freezer.state") == want)
                {
                    return;
                }
            }
            catch (Exception e) when ((e is IOException or RuntimeError) && !Directory.Exists(dir))
            {
                // The cgroup was removed meanwhile: a thaw right after a SIGKILL lets the tasks die, and their owner
                // may delete the cgroup before we read the state back. Nothing is left to thaw; a freeze fails clearly.
                if (frozen)
                {
                    throw new RuntimeError($"freezer: {dir} is gone");
                }

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
