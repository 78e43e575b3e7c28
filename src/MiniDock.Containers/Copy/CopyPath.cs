using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Copy;

/// <summary>
/// A path found for <c>cp</c>: an O_PATH fd of its parent directory and its last name there, plus the lstat of
/// that name (null: it does not exist). Everything afterwards is done relative to <see cref="ParentFd"/> by name,
/// never by path again, so nothing swapped in after the lookup can redirect it. <see cref="ParentFd"/> is -1 when
/// the parent itself does not exist.
/// </summary>
internal sealed class CopyPath : IDisposable
{
    private const int MaxHops = 40; // the kernel's MAXSYMLINKS

    private CopyPath(int parentFd, string name, StatInfo? stat, string shown)
    {
        ParentFd = parentFd;
        Name = name;
        Stat = stat;
        Shown = shown;
    }

    public int ParentFd { get; }

    /// <summary>The last component; "." for the root itself.</summary>
    public string Name { get; }

    public StatInfo? Stat { get; }

    /// <summary>The absolute path this resolved to, as seen from its root (for messages).</summary>
    public string Shown { get; }

    /// <summary>The directory part of <see cref="Shown"/>.</summary>
    public string ShownParent
    {
        get
        {
            var slash = Shown.LastIndexOf('/');
            return slash <= 0 ? "/" : Shown[..slash];
        }
    }

    /// <summary>
    /// Looks <paramref name="path"/> up below <paramref name="rootFd"/>. With <paramref name="inRoot"/> every
    /// lookup is an openat2(2) with RESOLVE_IN_ROOT, so absolute symlinks and ".." resolve as if the root were "/"
    /// and nothing outside it can be reached (the rootfs of a container is untrusted); without it the lookup is the
    /// host's ordinary one (the user's own paths). The path is cleaned lexically first, as Docker does
    /// (<c>filepath.Join("/", path)</c>). A final symlink is followed only when <paramref name="followFinal"/>.
    /// </summary>
    public static CopyPath Resolve(int rootFd, bool inRoot, string path, bool followFinal)
    {
        var how = inRoot ? Native.Resolve.InRoot | Native.Resolve.NoMagicLinks : 0;
        var rel = SecureJoin.Clean(path);
        for (var hops = 0; ; hops++)
        {
            if (rel.Length == 0)
            {
                var fd = Sys.OpenAt2(rootFd, ".", OpenFlags.Path | OpenFlags.Directory, 0, how);
                return new CopyPath(fd, ".", FsAt.LStatAt(fd, "."), "/");
            }

            var slash = rel.LastIndexOf('/');
            var parent = slash < 0 ? "." : rel[..slash];
            var name = rel[(slash + 1)..];
            int pfd;
            try
            {
                pfd = Sys.OpenAt2(rootFd, parent, OpenFlags.Path | OpenFlags.Directory, 0, how);
            }
            catch (SysException e) when (e.Errno is Consts.ENoEnt or Consts.ENotDir)
            {
                return new CopyPath(-1, name, null, "/" + rel);
            }

            StatInfo? st;
            try
            {
                st = FsAt.LStatAt(pfd, name);
            }
            catch
            {
                Sys.Close(pfd);
                throw;
            }

            if (!followFinal || st is not { IsSymlink: true })
            {
                return new CopyPath(pfd, name, st, "/" + rel);
            }

            try
            {
                if (hops >= MaxHops)
                {
                    throw new CopyException($"{path}: too many levels of symbolic links");
                }

                rel = Follow(rootFd, how, rel, pfd, parent, name);
            }
            finally
            {
                Sys.Close(pfd);
            }
        }
    }

    /// <summary>
    /// Where the symlink <paramref name="rel"/> leads, as a clean path from the root. When its target exists the
    /// kernel resolves the whole chain (in root) and the answer is read back from /proc; for a dangling link (a
    /// destination to create) the target is joined to the link's parent as written, as Docker's CLI does.
    /// </summary>
    private static string Follow(int rootFd, ulong how, string rel, int pfd, string parent, string name)
    {
        int fd;
        try
        {
            fd = Sys.OpenAt2(rootFd, rel, OpenFlags.Path, 0, how);
        }
        catch (SysException e) when (e.Errno is Consts.ENoEnt or Consts.ENotDir)
        {
            var target = Sys.ReadLink($"{SecureJoin.FdPath(pfd)}/{name}");
            return SecureJoin.Clean(target.StartsWith('/') || parent == "." ? target : parent + "/" + target);
        }

        try
        {
            var real = Sys.ReadLink(SecureJoin.FdPath(fd));
            var root = Sys.ReadLink(SecureJoin.FdPath(rootFd));
            if (root == "/")
            {
                return SecureJoin.Clean(real);
            }

            if (real == root || real.StartsWith(root + "/", StringComparison.Ordinal))
            {
                return SecureJoin.Clean(real[root.Length..]);
            }

            // openat2 guarantees the fd is below the root; a path that says otherwise was renamed meanwhile.
            throw new CopyException($"{rel}: moved while being resolved");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    public void Dispose() => Sys.Close(ParentFd);
}
