namespace MiniDock.Containers.Rootfs;

/// <summary>
/// Turns an image's unpacked layers into one container's root filesystem, the seam containerd calls a
/// snapshotter (https://github.com/containerd/containerd/blob/main/docs/snapshotters/README.md): the layers
/// stay read-only and shared, and each container gets its own writable view. <see cref="OverlaySnapshotter"/>
/// stacks them with overlayfs (https://docs.kernel.org/filesystems/overlayfs.html); <see cref="CopySnapshotter"/>
/// ("vfs", Docker's name) copies them, for kernels or filesystems where overlayfs cannot be mounted.
/// Every method takes the container's own directory, so one instance serves every container.
/// </summary>
public interface ISnapshotter
{
    /// <summary>The storage driver's name, as Docker spells it: "overlay" or "vfs".</summary>
    string Name { get; }

    /// <summary>
    /// Prepares the rootfs of <paramref name="containerDir"/> from read-only layer directories in overlay
    /// form (<paramref name="lowerDirs"/>: the BASE layer first, as image-spec lists them) and returns its path.
    /// Idempotent: when it is already mounted or prepared, the same path comes back and nothing is redone.
    /// </summary>
    string Mount(string containerDir, IReadOnlyList<string> lowerDirs);

    /// <summary>Unmounts the rootfs (idempotent; lazily when busy). The container's changes stay.</summary>
    void Unmount(string containerDir);

    /// <summary>True when the rootfs is mounted (overlay) or prepared (vfs).</summary>
    bool IsMounted(string containerDir);

    /// <summary>
    /// Unmounts and deletes everything this snapshotter made under <paramref name="containerDir"/>, the
    /// container's changes included; <paramref name="containerDir"/> itself and other files in it stay.
    /// Idempotent. Never follows a symlink out of the tree, and copes with mode 000 and immutable files.
    /// </summary>
    void Remove(string containerDir);

    /// <summary>Where <see cref="Mount"/> puts the rootfs; nothing is checked or created.</summary>
    string RootfsPath(string containerDir);
}
