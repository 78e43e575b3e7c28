using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// Questions about the current mount namespace, answered from /proc/self/mountinfo (proc(5)). The parsing,
/// octal escapes included (the kernel writes space, tab, newline and backslash as \040, \011, \012, \134),
/// is <see cref="MountInfo.Read"/>'s: one parser for the whole code base.
/// </summary>
public static class MountTable
{
    /// <summary>
    /// True when <paramref name="path"/> is itself a mount point (the root of some mount) in this mount
    /// namespace. Comparing st_dev with the parent's would miss a bind mount of the same filesystem, so the
    /// mount table is the authority. The path is canonicalised first (symlinks, "..", a relative path), as
    /// the kernel writes mount points canonically; a path that does not exist is not a mount point.
    /// </summary>
    public static bool IsMountPoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var canonical = Canonical(path);
        if (canonical is null)
        {
            return false;
        }

        foreach (var m in MountInfo.Read())
        {
            if (string.Equals(m.MountPoint, canonical, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The kernel's own name for <paramref name="path"/> (readlink of an O_PATH fd), or null when it does not exist.</summary>
    internal static string? Canonical(string path)
    {
        int fd;
        try
        {
            fd = Sys.Open(Path.GetFullPath(path), OpenFlags.Path);
        }
        catch (SysException e) when (e.Errno is Consts.ENoEnt or Consts.ENotDir)
        {
            return null;
        }

        try
        {
            return Sys.ReadLink($"/proc/self/fd/{fd}");
        }
        finally
        {
            Sys.Close(fd);
        }
    }
}
