namespace MiniDock.Native;

/// <summary>
/// The new mount API calls that idmapped mounts need: open_tree(2) to clone a directory as a detached mount,
/// mount_setattr(2) with MOUNT_ATTR_IDMAP to attach a user namespace's id mapping to it
/// (https://man7.org/linux/man-pages/man2/mount_setattr.2.html, "Idmapped mounts"), and move_mount(2) to attach
/// it at a path. Raw syscalls: glibc wraps them only from 2.36.
/// </summary>
public static unsafe class MountApi
{
    /// <summary>OPEN_TREE_CLONE: a detached copy of the mount at the path, not the mount itself.</summary>
    public const int OpenTreeClone = 1;

    /// <summary>OPEN_TREE_CLOEXEC (O_CLOEXEC).</summary>
    public const int OpenTreeCloexec = 0x80000;

    /// <summary>MOUNT_ATTR_IDMAP (Linux 5.12).</summary>
    public const ulong MountAttrIdmap = 0x00100000;

    /// <summary>MOVE_MOUNT_F_EMPTY_PATH: the source is the fd itself.</summary>
    public const int MoveMountFEmptyPath = 0x4;

    /// <summary>open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC): a detached clone of the tree at <paramref name="path"/>.</summary>
    public static int OpenTreeCloneOf(string path)
    {
        fixed (byte* p = Sys.Utf8Z(path))
        {
            return (int)Sys.Check(Libc.syscall(SysNo.OpenTree, Consts.AtFdCwd, (nint)p, OpenTreeClone | OpenTreeCloexec, 0, 0, 0), $"open_tree {path}");
        }
    }

    /// <summary>
    /// mount_setattr(fd, "", AT_EMPTY_PATH, {attr_set = MOUNT_ATTR_IDMAP, userns_fd}): the detached mount
    /// <paramref name="mountFd"/> shows and writes ids through the mapping of the user namespace <paramref name="usernsFd"/>.
    /// Returns 0 or the errno (EINVAL: the filesystem or kernel does not support idmapped mounts).
    /// </summary>
    public static int SetIdmap(int mountFd, int usernsFd)
    {
        fixed (byte* empty = "\0"u8)
        {
            // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd; }
            var attr = stackalloc ulong[4];
            attr[0] = MountAttrIdmap;
            attr[1] = 0;
            attr[2] = 0;
            attr[3] = (ulong)usernsFd;
            return Libc.syscall(SysNo.MountSetattr, mountFd, (nint)empty, Consts.AtEmptyPath, (nint)attr, 32, 0) < 0 ? Sys.Errno : 0;
        }
    }

    /// <summary>move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH): attaches a detached mount at <paramref name="target"/>.</summary>
    public static void MoveTo(int mountFd, string target)
    {
        fixed (byte* empty = "\0"u8, t = Sys.Utf8Z(target))
        {
            Sys.Check(Libc.syscall(SysNo.MoveMount, mountFd, (nint)empty, Consts.AtFdCwd, (nint)t, MoveMountFEmptyPath, 0), $"move_mount {target}");
        }
    }
}
