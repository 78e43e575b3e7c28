using MiniDock.Native;

namespace MiniDock.Runtime.Mounts;

/// <summary>
/// Resolves paths inside the rootfs so that no symlink can lead outside it: every lookup is an
/// openat2(2) with RESOLVE_IN_ROOT, which treats the rootfs as "/" for absolute links and "..".
/// Mounts then target <c>/proc/self/fd/N</c> of the resolved fd, so nothing can be swapped between
/// the check and the mount (the CVE-2021-30465 class, which runc fixed the same way).
/// </summary>
public static class SecureJoin
{
    private const ulong InRoot = Resolve.InRoot | Resolve.NoMagicLinks;

    /// <summary>Opens an existing path inside the root as O_PATH; returns -1 if it does not exist.</summary>
    public static int TryOpen(int rootFd, string path, int extraFlags = 0)
    {
        var rel = Relative(path);
        if (rel.Length == 0)
        {
            return Sys.Check(Libc.openat(rootFd, ".", OpenFlags.Path | OpenFlags.CloExec, 0), "open rootfs");
        }

        try
        {
            return Sys.OpenAt2(rootFd, rel, OpenFlags.Path | extraFlags, 0, InRoot);
        }
        catch (SysException e) when (e.Errno == Consts.ENoEnt)
        {
            return -1;
        }
    }

    /// <summary>mkdir -p inside the root; returns an O_PATH fd of the final directory.</summary>
    public static int MkdirAll(int rootFd, string path, uint mode = 0x1ed /* 0755 */) => MkdirAll(rootFd, path, mode, 0);

    private static int MkdirAll(int rootFd, string path, uint mode, int depth)
    {
        if (depth > 40)
        {
            throw new SysException($"mkdir {path}", 40 /* ELOOP */);
        }

        var parts = Relative(path).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var cur = Sys.Check(Libc.openat(rootFd, ".", OpenFlags.Path | OpenFlags.CloExec, 0), "open rootfs");
        for (var i = 0; i < parts.Length; i++)
        {
            var prefix = string.Join('/', parts, 0, i + 1);
            int next;
            try
            {
                next = Sys.OpenAt2(rootFd, prefix, OpenFlags.Path | OpenFlags.Directory, 0, InRoot);
            }
            catch (SysException e) when (e.Errno == Consts.ENoEnt)
            {
                // cur is the in-root resolution of the parent; a single name below it cannot escape.
                if (Libc.mkdirat(cur, parts[i], mode) < 0 && Sys.Errno != Consts.EExist)
                {
                    var err = Sys.Errno;
                    Sys.Close(cur);
                    throw new SysException($"mkdir {path}", err);
                }

                // A dangling symlink: create what it points to, resolved inside the root like the kernel would.
                if (LinkTarget(cur, parts[i]) is { } link)
                {
                    Sys.Close(cur);
                    var parent = string.Join('/', parts, 0, i);
                    var target = link.StartsWith('/') ? link : parent + "/" + link;
                    var rest = string.Join('/', parts, i + 1, parts.Length - i - 1);
                    return MkdirAll(rootFd, Clean(target) + "/" + rest, mode, depth + 1);
                }

                next = Sys.OpenAt2(rootFd, prefix, OpenFlags.Path | OpenFlags.Directory, 0, InRoot);
            }
            catch
            {
                Sys.Close(cur);
                throw;
            }

            Sys.Close(cur);
            cur = next;
        }

        return cur;
    }

    /// <summary>
    /// Opens the mount target for <paramref name="path"/>, creating it (a directory, or an empty
    /// file when <paramref name="asFile"/>) if missing. Returns an O_PATH fd.
    /// </summary>
    public static int OpenOrCreate(int rootFd, string path, bool asFile)
    {
        var fd = TryOpen(rootFd, path);
        if (fd >= 0)
        {
            return fd;
        }

        if (!asFile)
        {
            return MkdirAll(rootFd, path);
        }

        var rel = Relative(path);
        var slash = rel.LastIndexOf('/');
        var parent = MkdirAll(rootFd, slash < 0 ? "" : rel[..slash]);
        try
        {
            var name = slash < 0 ? rel : rel[(slash + 1)..];
            var f = Libc.openat(parent, name, OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.NoFollow | OpenFlags.CloExec, 0x1a4 /* 0644 */);
            if (f < 0 && Sys.Errno != Consts.EExist)
            {
                throw new SysException($"create {path}", Sys.Errno);
            }

            Sys.Close(f);
            return Sys.OpenAt2(parent, name, OpenFlags.Path | OpenFlags.NoFollow, 0, InRoot);
        }
        finally
        {
            Sys.Close(parent);
        }
    }

    /// <summary>Splits <paramref name="path"/> into an O_PATH fd of its (created) parent and its last name.</summary>
    public static (int ParentFd, string Name) Parent(int rootFd, string path)
    {
        var rel = Relative(path);
        var slash = rel.LastIndexOf('/');
        return (MkdirAll(rootFd, slash < 0 ? "" : rel[..slash]), slash < 0 ? rel : rel[(slash + 1)..]);
    }

    /// <summary>The magic-link path of an fd, usable as a mount target or source.</summary>
    public static string FdPath(int fd) => $"/proc/self/fd/{fd}";

    public static string Relative(string path) => string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Lexically cleans a path as seen from the root: ".." at the top stays at the top.</summary>
    public static string Clean(string path)
    {
        var stack = new List<string>();
        foreach (var p in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (p == "..")
            {
                if (stack.Count > 0)
                {
                    stack.RemoveAt(stack.Count - 1);
                }
            }
            else if (p != ".")
            {
                stack.Add(p);
            }
        }

        return string.Join('/', stack);
    }

    private static string? LinkTarget(int dirFd, string name)
    {
        try
        {
            return Sys.ReadLink($"{FdPath(dirFd)}/{name}");
        }
        catch (SysException)
        {
            return null;
        }
    }
}
