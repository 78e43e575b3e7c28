using System.Globalization;
using MiniDock.Containers.Config;
using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// The image layers of a <c>--userns-remap</c> container, seen through idmapped mounts
/// (mount_setattr(2) MOUNT_ATTR_IDMAP, https://man7.org/linux/man-pages/man2/mount_setattr.2.html): a file that
/// real root owns on disk shows as the remapped root (host uid HostUid, container uid 0), so the layers stay
/// root-owned and shared with every other container, where Docker's userns-remap
/// (https://docs.docker.com/engine/security/userns-remap/) keeps a chowned copy of every layer per remapping.
/// </summary>
/// <remarks>
/// <para>
/// overlayfs itself cannot be idmapped, but accepts idmapped layers (Linux 5.19). Each lower directory is cloned
/// (open_tree OPEN_TREE_CLONE), given the mapping of a user namespace made for the purpose
/// (<see cref="UsernsHolder"/>), and attached at <c>idmap/lN</c> under the container's directory, because
/// overlayfs' lowerdir takes paths. overlayfs clones the layer mounts it is given privately at mount time, so
/// the <c>idmap/lN</c> mounts are detached again right after the overlay is mounted: while the container runs
/// only its overlay is in the mount table, exactly as without the remap.
/// </para>
/// <para>
/// The upper directory is not idmapped: what the container writes lands on disk with its host ids (a file made
/// by container root is owned by HostUid), as with Docker, and a copied-up file keeps the owner the idmapped
/// lower showed. Only the upper directory's own root is chowned to the remapped root, since it is the
/// container's <c>/</c>.
/// </para>
/// </remarks>
internal static class IdmappedLayers
{
    /// <summary>The directory under the container's that holds the mount points while the overlay is being mounted.</summary>
    public const string DirName = "idmap";

    /// <summary>
    /// Mounts each of <paramref name="lowers"/> idmapped at <c>containerDir/idmap/lN</c> and returns those paths
    /// in the same order. On failure nothing stays mounted.
    /// </summary>
    public static List<string> Attach(string containerDir, IReadOnlyList<string> lowers, UsernsRemap remap)
    {
        var root = Path.Combine(containerDir, DirName);
        Detach(containerDir);
        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        int userns;
        try
        {
            userns = UsernsHolder.Create(remap.HostUid, remap.UidSize, remap.HostGid, remap.GidSize);
        }
        catch (SysException e)
        {
            throw new SnapshotException($"--userns-remap: cannot make the mapping's user namespace: {e.Message}");
        }

        var result = new List<string>(lowers.Count);
        try
        {
            for (var i = 0; i < lowers.Count; i++)
            {
                var target = Path.Combine(root, "l" + i.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(target);
                var fd = MountApi.OpenTreeCloneOf(lowers[i]);
                try
                {
                    var errno = MountApi.SetIdmap(fd, userns);
                    if (errno != 0)
                    {
                        throw new SnapshotException(
                            $"--userns-remap needs idmapped mounts of the layers' filesystem (Linux 5.19 or later for overlayfs layers): {new SysException($"mount_setattr MOUNT_ATTR_IDMAP on {lowers[i]}", errno).Message}");
                    }

                    MountApi.MoveTo(fd, target);
                }
                finally
                {
                    Sys.Close(fd);
                }

                result.Add(target);
            }
        }
        catch (SysException e)
        {
            Detach(containerDir);
            throw new SnapshotException($"--userns-remap: idmapped layer mount: {e.Message}");
        }
        catch
        {
            Detach(containerDir);
            throw;
        }
        finally
        {
            Sys.Close(userns);
        }

        return result;
    }

    /// <summary>
    /// Lets the remapped root reach <paramref name="dir"/>: the container's init mounts its rootfs and the bundle's files
    /// by path from inside its user namespace, where host-owned directories give it only their "other" bits (host
    /// root is unmapped there, so no capability applies). <paramref name="dir"/> itself becomes <c>root:HostGid</c>
    /// 0710 (as Docker's per-remap container directories), and each ancestor that others cannot search gets o+x, as
    /// Docker does to the path leading to its data root under userns-remap. Nothing is made readable or listable.
    /// </summary>
    public static void GrantTraverse(string dir, UsernsRemap remap)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        Libc.fchownat(Consts.AtFdCwd, full, 0, remap.HostGid, 0);
        File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute);
        for (var parent = Path.GetDirectoryName(full); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            var mode = File.GetUnixFileMode(parent);
            if ((mode & UnixFileMode.OtherExecute) == 0)
            {
                File.SetUnixFileMode(parent, mode | UnixFileMode.OtherExecute);
            }
        }
    }

    /// <summary>
    /// Detaches (MNT_DETACH) every mount under <c>containerDir/idmap</c> and removes the directory. Does nothing,
    /// and reads no mount table, when the directory does not exist: the path of every container without the remap.
    /// </summary>
    public static void Detach(string containerDir)
    {
        var root = Path.Combine(containerDir, DirName);
        if (!Directory.Exists(root))
        {
            return;
        }

        if (MountTable.Canonical(root) is { } canonical)
        {
            var prefix = canonical + "/";
            var points = MountInfo.Read().Select(m => m.MountPoint).Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            for (var i = points.Count - 1; i >= 0; i--)
            {
                Libc.umount2(points[i], MountFlags.MntDetach);
            }
        }

        try
        {
            TreeRemover.Remove(root);
        }
        catch (SysException e)
        {
            throw new SnapshotException($"remove {root}: {e.Message}");
        }
    }
}
