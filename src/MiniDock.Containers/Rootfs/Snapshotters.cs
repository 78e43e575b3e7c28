using MiniDock.Native;

namespace MiniDock.Containers.Rootfs;

/// <summary>
/// Picks the storage driver, as Docker's daemon does with <c>storage-driver</c>: "overlay" unless told
/// otherwise, and "vfs" (copies) where the kernel will not mount overlayfs there, such as a data root on a
/// filesystem overlayfs cannot use as upper (another overlayfs, some FUSE or NFS mounts) or a kernel
/// built without it.
/// </summary>
public static class Snapshotters
{
    /// <summary>The environment variable that names the driver when the caller does not.</summary>
    public const string EnvironmentVariable = "MINIDOCK_STORAGE_DRIVER";

    private const int ENoDev = 19;
    private static readonly Lock Gate = new();
    private static int? _probeErrno;

    /// <summary>
    /// The snapshotter for <paramref name="driver"/>: "overlay" (the default; Docker's "overlay2" is
    /// accepted as the same) or "vfs", case-insensitive; null means $MINIDOCK_STORAGE_DRIVER, and unset or
    /// empty means "overlay". Overlay is probed once per process by mounting a tiny overlay in a temporary
    /// directory under <paramref name="dataRoot"/> (where containers' upper dirs will live); when the kernel
    /// refuses it (ENODEV: no overlayfs; EINVAL: an unsuitable filesystem; EPERM: not allowed here) vfs is
    /// returned instead. Any other probe failure, and an unknown name, throw <see cref="SnapshotException"/>.
    /// </summary>
    public static ISnapshotter Select(string dataRoot, string? driver = null)
        => Select(dataRoot, driver, Environment.GetEnvironmentVariable(EnvironmentVariable), CachedProbe);

    /// <summary>The decision itself, with the environment's value and the probe given (tests drive every branch).</summary>
    internal static ISnapshotter Select(string dataRoot, string? driver, string? environment, Func<string, int> probe)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataRoot);
        var name = (string.IsNullOrWhiteSpace(driver) ? environment : driver)?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            name = "overlay";
        }

        switch (name.ToLowerInvariant())
        {
            case "vfs":
                return new CopySnapshotter();
            case "overlay" or "overlay2" or "overlayfs":
                var errno = probe(dataRoot);
                if (errno == 0)
                {
                    return new OverlaySnapshotter();
                }

                if (errno is ENoDev or Consts.EInval or Consts.EPerm)
                {
                    return new CopySnapshotter();
                }

                throw new SnapshotException($"overlayfs probe under {dataRoot} failed: {new SysException("mount overlay", errno).Message}");
            default:
                throw new SnapshotException($"unknown storage driver '{name}' (supported: overlay, vfs)");
        }
    }

    /// <summary>Probes at most once per process; the answer does not change while it runs.</summary>
    private static int CachedProbe(string dataRoot)
    {
        lock (Gate)
        {
            _probeErrno ??= Probe(dataRoot);
            return _probeErrno.Value;
        }
    }

    /// <summary>
    /// Mounts and unmounts a one-layer overlay under <paramref name="dataRoot"/>; returns 0 or mount(2)'s errno.
    /// The directories are removed afterwards whatever happened.
    /// </summary>
    internal static int Probe(string dataRoot)
    {
        var root = Path.Combine(Path.GetFullPath(dataRoot), $".overlay-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var lower = Path.Combine(root, "lower");
        var upper = Path.Combine(root, "upper");
        var work = Path.Combine(root, "work");
        var merged = Path.Combine(root, "merged");
        try
        {
            foreach (var d in new[] { lower, upper, work, merged })
            {
                Directory.CreateDirectory(d);
            }

            var data = OverlaySnapshotter.Options([lower], upper, work);
            if (data is null)
            {
                // The data root's own path has ',' ':' or '\': the real mounts use fd names, so the probe does too.
                var fds = new[] { Sys.Open(lower, OpenFlags.Path | OpenFlags.Directory), Sys.Open(upper, OpenFlags.Path | OpenFlags.Directory), Sys.Open(work, OpenFlags.Path | OpenFlags.Directory) };
                try
                {
                    return MountOnce(merged, $"lowerdir=/proc/self/fd/{fds[0]},upperdir=/proc/self/fd/{fds[1]},workdir=/proc/self/fd/{fds[2]},index=off");
                }
                finally
                {
                    foreach (var fd in fds)
                    {
                        Sys.Close(fd);
                    }
                }
            }

            return MountOnce(merged, data);
        }
        finally
        {
            TreeRemover.Remove(root);
        }
    }

    private static int MountOnce(string merged, string data)
    {
        if (Libc.mount("overlay", merged, "overlay", 0, data) < 0)
        {
            return Sys.Errno;
        }

        Libc.umount2(merged, MountFlags.MntDetach);
        return 0;
    }
}
