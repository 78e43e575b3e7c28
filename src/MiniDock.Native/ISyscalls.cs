namespace MiniDock.Native;

/// <summary>
/// The filesystem and mount calls the engine's rootfs setup makes, behind one seam (as youki puts
/// every syscall behind one trait): unit tests swap in a recorder and check the decisions — which
/// mounts, in which order, with which flags — without root or a kernel.
/// </summary>
public interface ISyscalls
{
    void Mount(string? source, string target, string? fstype, ulong flags, string? data);

    void Umount(string target, int flags);

    void PivotRoot(string newRoot, string putOld);

    void Chdir(string path);

    void Chroot(string path);

    /// <summary>Creates a device node or fifo at an fd-relative path.</summary>
    void MknodAt(int dirfd, string name, uint mode, uint major, uint minor);

    void SymlinkAt(string target, int dirfd, string name);

    void FchownAt(int dirfd, string name, uint uid, uint gid);
}

/// <summary>The real thing.</summary>
public sealed class LinuxSyscalls : ISyscalls
{
    public static readonly LinuxSyscalls Instance = new();

    public void Mount(string? source, string target, string? fstype, ulong flags, string? data) => Sys.Mount(source, target, fstype, flags, data);

    public void Umount(string target, int flags) => Sys.Umount(target, flags);

    public void PivotRoot(string newRoot, string putOld) => Sys.PivotRoot(newRoot, putOld);

    public void Chdir(string path) => Sys.Check(Libc.chdir(path), $"chdir {path}");

    public void Chroot(string path) => Sys.Check(Libc.chroot(path), $"chroot {path}");

    public void MknodAt(int dirfd, string name, uint mode, uint major, uint minor)
    {
        var dev = ((ulong)(major & 0xfff) << 8) | (minor & 0xff) | ((ulong)(minor & ~0xffu) << 12) | ((ulong)(major & ~0xfffu) << 32);
        Sys.Check(Libc.mknodat(dirfd, name, mode, dev), $"mknod {name}");
    }

    public void SymlinkAt(string target, int dirfd, string name) => Sys.Check(Libc.symlinkat(target, dirfd, name), $"symlink {name} -> {target}");

    public void FchownAt(int dirfd, string name, uint uid, uint gid) => Sys.Check(Libc.fchownat(dirfd, name, uid, gid, Consts.AtSymlinkNoFollow), $"chown {name}");
}
