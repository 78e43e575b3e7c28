using MiniDock.Containers.Rootfs;
using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>
/// A fresh directory per test (on /tmp, a real filesystem with trusted.* xattrs), removed afterwards with
/// everything mounted under it unmounted first, deepest first: a failed test leaves no mount behind.
/// </summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "minidock-rootfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string relative)
    {
        var p = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(p);
        return p;
    }

    /// <summary>Mount points at or under <paramref name="root"/>, deepest first.</summary>
    public static List<string> MountsUnder(string root)
    {
        var prefix = MountTable.Canonical(root) ?? root;
        return MountInfo.Read()
            .Select(m => m.MountPoint)
            .Where(mp => mp == prefix || mp.StartsWith(prefix + "/", StringComparison.Ordinal))
            .OrderByDescending(mp => mp.Length)
            .ToList();
    }

    public void Dispose()
    {
        foreach (var mp in MountsUnder(Path))
        {
            Libc.umount2(mp, MountFlags.MntDetach);
        }

        try
        {
            TreeRemover.Remove(Path);
        }
        catch (SysException)
        {
        }
    }
}
