using System.Text;
using MiniDock.Native;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// The default snapshotter: the image's layer directories become overlayfs lowerdirs, shared read-only by
/// every container of the image, and the container's changes land in its own upperdir
/// (https://docs.kernel.org/filesystems/overlayfs.html; containerd's "overlayfs" snapshotter and Docker's
/// overlay2 do the same). Layout under the container directory, as Docker's overlay2 has it: <c>upper</c>
/// (0755: it is the root directory the container sees), <c>work</c> (0700, overlayfs' scratch space, same
/// filesystem as upper), <c>merged</c> (0755, the mount point), and <c>empty-lower</c> for an image without
/// layers (overlayfs needs at least one lowerdir).
/// </summary>
/// <remarks>
/// <para>
/// <c>index=off</c> is passed explicitly: with the inodes index on, overlayfs records which upper dir
/// first used each lower and refuses (or warns about) sharing, and layers here are shared by design.
/// </para>
/// <para>
/// mount(2) takes its options in one page (4095 bytes plus the NUL). When the lowerdir list of full paths
/// does not fit, or a path holds a character the option syntax reserves (',' ':' '\'), every directory
/// (lowers, upper, work) is instead opened O_PATH and named <c>/proc/self/fd/N</c> (some 18 bytes a layer,
/// whatever the data root); overlayfs resolves those magic links at mount time and keeps the directories,
/// not the names. This is containerd's and Docker's short-name trick without their chdir, which would
/// change the working directory of every thread of this process. If even the short names do not fit
/// (beyond about 220 layers; Docker itself stops at 128) or there are more than overlayfs' 500-layer stack
/// limit, <see cref="Mount"/> fails with "too many layers for overlayfs: N".
/// The mount table then shows <c>/proc/self/fd/N</c> names in the options: cosmetic only.
/// </para>
/// </remarks>
public sealed class OverlaySnapshotter : ISnapshotter
{
    /// <summary>What mount(2) copies of the data argument: one page, NUL included.</summary>
    internal const int MaxOptionBytes = 4095;

    /// <summary>OVL_MAX_STACK in fs/overlayfs/params.h.</summary>
    internal const int MaxLayers = 500;

    public string Name => "overlay";

    /// <summary>
    /// Mount with overlayfs's <c>volatile</c> option (https://docs.kernel.org/filesystems/overlayfs.html#volatile-mount):
    /// no syncs to the upper filesystem, above all none at unmount, which otherwise costs a whole syncfs of the
    /// filesystem under DATA (tens of ms while anything else writes there). Only for containers whose upper dir dies
    /// with them (<c>run --rm</c>): after a crash a volatile upper dir must be thrown away, which is exactly their fate.
    /// A kernel without the option (before 5.10) gets a plain mount.
    /// </summary>
    public bool Volatile { get; init; }

    /// <summary>
    /// <c>--userns-remap</c>: the layers are mounted through idmapped mounts of this mapping (<see cref="IdmappedLayers"/>)
    /// and the upper directory's root belongs to the remapped root. Null: plain layers, nothing extra done.
    /// </summary>
    public Config.UsernsRemap? Remap { get; init; }

    public string RootfsPath(string containerDir) => Path.Combine(Path.GetFullPath(containerDir), "merged");

    public bool IsMounted(string containerDir) => MountTable.IsMountPoint(RootfsPath(containerDir));

    public string Mount(string containerDir, IReadOnlyList<string> lowerDirs)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerDir);
        ArgumentNullException.ThrowIfNull(lowerDirs);
        var dir = Path.GetFullPath(containerDir);
        var merged = RootfsPath(dir);
        if (MountTable.IsMountPoint(merged))
        {
            return merged;
        }

        var lowers = new List<string>(Math.Max(1, lowerDirs.Count));
        for (var i = lowerDirs.Count - 1; i >= 0; i--)
        {
            // overlayfs wants the TOP layer first: the reverse of the image's order.
            var lower = Path.TrimEndingDirectorySeparator(Path.GetFullPath(lowerDirs[i]));
            if (!Directory.Exists(lower))
            {
                throw new SnapshotException($"layer directory {lower} does not exist");
            }

            lowers.Add(lower);
        }

        if (lowers.Count > MaxLayers)
        {
            throw new SnapshotException($"too many layers for overlayfs: {lowers.Count}");
        }

        Directory.CreateDirectory(dir);
        var upper = MakeDir(dir, "upper", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var work = MakeDir(dir, "work", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        MakeDir(dir, "merged", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        if (lowers.Count == 0)
        {
            lowers.Add(MakeDir(dir, "empty-lower", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute));
        }

        if (Volatile)
        {
            // overlayfs refuses to remount a work dir that a volatile mount used (work/incompat/volatile) until it
            // is removed; the upper dir of a --rm container has no other life to protect.
            TreeRemover.Remove(Path.Combine(work, "work", "incompat"));
        }

        if (Remap is { } remap)
        {
            // The container's "/" is the upper dir's root: its owner must be the remapped root, or that root could
            // not create anything in "/" (host uid 0 is unmapped, so no capability of the container applies to it).
            Libc.fchownat(Consts.AtFdCwd, upper, remap.HostUid, remap.HostGid, 0);
            IdmappedLayers.GrantTraverse(dir, remap);
            var idmapped = IdmappedLayers.Attach(dir, lowers, remap);
            try
            {
                MountOverlay(merged, idmapped, upper, work, layerCount: lowerDirs.Count, Volatile);
            }
            catch (SnapshotException e) when (e.Message.Contains("Invalid argument", StringComparison.Ordinal))
            {
                throw new SnapshotException($"--userns-remap needs overlayfs with idmapped layers (Linux 5.19 or later): {e.Message}");
            }
            finally
            {
                // overlayfs holds its own private clones of the layer mounts: the idmap/lN mounts can go now.
                IdmappedLayers.Detach(dir);
            }

            return merged;
        }

        MountOverlay(merged, lowers, upper, work, layerCount: lowerDirs.Count, Volatile);
        return merged;
    }

    public void Unmount(string containerDir)
    {
        var merged = RootfsPath(containerDir);
        // Bounded: a rootfs mounted twice on the same point comes off one mount per round.
        for (var i = 0; i < 8 && MountTable.IsMountPoint(merged); i++)
        {
            if (Libc.umount2(merged, 0) == 0)
            {
                continue;
            }

            var errno = Sys.Errno;
            if (errno == Consts.EBusy)
            {
                // Something still uses it (a shell cd'd into it, a process being torn down): detach it
                // now, the kernel frees it when the last user goes, exactly like `umount -l`.
                if (Libc.umount2(merged, MountFlags.MntDetach) == 0)
                {
                    continue;
                }

                errno = Sys.Errno;
            }

            if (errno == Consts.EInval)
            {
                break; // no longer a mount point: someone else unmounted it between the check and the call
            }

            throw new SnapshotException($"unmount {merged}: {new SysException("umount", errno).Message}");
        }

        // Left only by a mount killed between its idmapped layers and the overlay (a stat when there is none).
        IdmappedLayers.Detach(Path.GetFullPath(containerDir));
    }

    public void Remove(string containerDir)
    {
        var dir = Path.GetFullPath(containerDir);
        Unmount(dir);
        foreach (var name in new[] { "merged", "upper", "work", "empty-lower" })
        {
            try
            {
                TreeRemover.Remove(Path.Combine(dir, name));
            }
            catch (SysException e)
            {
                throw new SnapshotException($"remove {Path.Combine(dir, name)}: {e.Message}");
            }
        }
    }

    /// <summary>The mount(2) data for these directories, or null when it cannot be written as plain paths (too long, or reserved characters).</summary>
    internal static string? Options(IReadOnlyList<string> lowersTopFirst, string upper, string work)
    {
        if (lowersTopFirst.Any(NeedsFd) || NeedsFd(upper) || NeedsFd(work))
        {
            return null;
        }

        var data = $"lowerdir={string.Join(':', lowersTopFirst)},upperdir={upper},workdir={work},index=off";
        return Encoding.UTF8.GetByteCount(data) <= MaxOptionBytes ? data : null;
    }

    private static bool NeedsFd(string path) => path.AsSpan().IndexOfAny(",:\\") >= 0;

    private static void MountOverlay(string merged, List<string> lowers, string upper, string work, int layerCount, bool isVolatile = false)
    {
        var data = Options(lowers, upper, work);
        var fds = new List<int>();
        try
        {
            if (data is null)
            {
                var shortLowers = new List<string>(lowers.Count);
                foreach (var lower in lowers)
                {
                    shortLowers.Add(FdName(lower, fds));
                }

                data = $"lowerdir={string.Join(':', shortLowers)},upperdir={FdName(upper, fds)},workdir={FdName(work, fds)},index=off";
                if (Encoding.UTF8.GetByteCount(data) > MaxOptionBytes)
                {
                    throw new SnapshotException($"too many layers for overlayfs: {layerCount}");
                }
            }

            if (isVolatile && Libc.mount("overlay", merged, "overlay", 0, data + ",volatile") == 0)
            {
                return;
            }

            if (Libc.mount("overlay", merged, "overlay", 0, data) < 0)
            {
                var e = new SysException("mount overlay", Sys.Errno);
                throw new SnapshotException($"mount overlay on {merged} ({layerCount} layers): {e.Message}");
            }
        }
        finally
        {
            foreach (var fd in fds)
            {
                Sys.Close(fd);
            }
        }
    }

    private static string FdName(string dir, List<int> fds)
    {
        var fd = Sys.Open(dir, OpenFlags.Path | OpenFlags.Directory);
        fds.Add(fd);
        return $"/proc/self/fd/{fd}";
    }

    /// <summary>Creates <paramref name="name"/> with exactly <paramref name="mode"/> (umask-proof) unless it exists; returns its path.</summary>
    private static string MakeDir(string parent, string name, UnixFileMode mode)
    {
        var path = Path.Combine(parent, name);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path);
            File.SetUnixFileMode(path, mode);
        }

        return path;
    }
}
