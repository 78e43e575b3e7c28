using MiniDock.Native;

namespace MiniDock.Containers.Networks;

/// <summary>
/// <c>--network none</c> as Docker means it: a network namespace of its own with a working loopback. The runtime
/// leaves a new namespace's <c>lo</c> down (as runc does; CNI's loopback plugin brings it up), so the container
/// layer does it while the init is parked, before the user's process runs.
/// </summary>
public static class Loopback
{
    /// <summary>Brings <c>lo</c> up in the network namespace of process <paramref name="pid"/>.</summary>
    public static void Up(int pid)
    {
        var nsFd = Sys.Open($"/proc/{pid}/ns/net", OpenFlags.RdOnly);
        Exception? error = null;

        // setns changes only the calling thread: a thread of its own enters, works, and ends there.
        var t = new Thread(() =>
        {
            try
            {
                Sys.Setns(nsFd, Clone.NewNet, "net");
                NetLink.LoopbackUp();
            }
            catch (SysException e)
            {
                error = e;
            }
        }, 256 * 1024);
        t.Start();
        t.Join();
        Sys.Close(nsFd);
        if (error is not null)
        {
            throw new Config.ContainerException($"network none: bring up lo: {error.Message}");
        }
    }
}
