using MiniDock.Native;

namespace MiniDock.Containers.Copy;

/// <summary>
/// <see href="https://docs.docker.com/reference/cli/docker/container/cp/">docker cp</see> between the host and a
/// container's mounted rootfs, with Docker's rules for where things land:
/// <list type="bullet">
/// <item>SRC a file: DEST an existing directory → DEST/basename(SRC); DEST an existing file → overwritten; DEST
/// missing → created (an error if DEST ends with "/").</item>
/// <item>SRC a directory: DEST missing → created as a copy of it; DEST an existing directory → DEST/basename(SRC),
/// or only SRC's contents when SRC ends with "/."; DEST an existing file → an error.</item>
/// <item>A SRC symlink is copied as the link itself unless <c>followLink</c> (<c>-L</c>), or SRC ends with "/" or
/// "/."; a DEST symlink is followed. Symlinks inside a copied tree are copied as links.</item>
/// </list>
/// Container paths are relative to the container's "/" and resolved inside <c>rootfs</c> with openat2
/// RESOLVE_IN_ROOT (see <see cref="CopyPath"/>): an absolute or "../.." symlink in the rootfs resolves as it would
/// in the container, so a container cannot make <c>cp</c> read or write a host file (CVE-2018-15664, CVE-2019-14271).
/// Not kept (Docker's tar keeps them): hard links between copied files (each becomes its own file) and xattrs.
/// </summary>
public static class ContainerCopy
{
    /// <summary>
    /// <c>docker cp CONTAINER:SRC HOSTDEST</c>. Mode, mtime and uid/gid are kept (we run as root).
    /// </summary>
    /// <param name="rootfs">The container's mounted rootfs on the host.</param>
    /// <param name="srcInContainer">SRC, as a path inside the container.</param>
    /// <param name="hostDest">DEST on the host (relative to the current directory when not absolute).</param>
    /// <param name="followLink"><c>-L</c>: copy what a SRC symlink points to (resolved inside the rootfs) rather than the link.</param>
    /// <exception cref="CopyException">SRC is missing, DEST's directory is missing, or the two cannot be combined.</exception>
    public static void FromContainer(string rootfs, string srcInContainer, string hostDest, bool followLink = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootfs);
        ArgumentException.ThrowIfNullOrEmpty(srcInContainer);
        ArgumentException.ThrowIfNullOrEmpty(hostDest);
        Run(() =>
        {
            var srcRoot = OpenRoot(rootfs);
            var hostRoot = OpenRoot("/");
            try
            {
                var spec = Spec.Parse(srcInContainer);
                using var src = CopyPath.Resolve(srcRoot, inRoot: true, "/" + srcInContainer, followLink || spec.AssertsDir);
                if (src.Stat is not { } st)
                {
                    throw new CopyException($"Could not find the file {srcInContainer} in container");
                }

                CheckSource(spec, st, srcInContainer);
                var destSpec = Spec.Parse(hostDest);
                using var dst = CopyPath.Resolve(hostRoot, inRoot: false, Path.GetFullPath(hostDest), followFinal: true);
                if (dst.ParentFd < 0)
                {
                    throw new CopyException($"invalid output path: directory \"{dst.ShownParent}\" does not exist");
                }

                Place(src, st, spec, dst, destSpec, hostDest, TreeCopier.Owner.Preserve);
            }
            finally
            {
                Sys.Close(srcRoot);
                Sys.Close(hostRoot);
            }
        });
    }

    /// <summary>
    /// <c>docker cp HOSTSRC CONTAINER:DEST</c>. DEST is resolved inside <paramref name="rootfs"/>, a final DEST
    /// symlink included, and its parent directory must exist there. What is written is owned by root (0:0) as with
    /// Docker, unless <paramref name="copyOwnership"/> (<c>-a</c>) keeps the source's uid/gid; mode and mtime are kept.
    /// </summary>
    /// <param name="hostSrc">SRC on the host (relative to the current directory when not absolute).</param>
    /// <param name="rootfs">The container's mounted rootfs on the host.</param>
    /// <param name="destInContainer">DEST, as a path inside the container.</param>
    /// <param name="followLink"><c>-L</c>: copy what a SRC symlink points to rather than the link.</param>
    /// <param name="copyOwnership"><c>-a</c>: keep the source's uid/gid instead of root's.</param>
    /// <exception cref="CopyException">SRC is missing, DEST's directory is missing, or the two cannot be combined.</exception>
    public static void ToContainer(string hostSrc, string rootfs, string destInContainer, bool followLink = false, bool copyOwnership = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostSrc);
        ArgumentException.ThrowIfNullOrEmpty(rootfs);
        ArgumentException.ThrowIfNullOrEmpty(destInContainer);
        Run(() =>
        {
            var hostRoot = OpenRoot("/");
            var dstRoot = OpenRoot(rootfs);
            try
            {
                var spec = Spec.Parse(hostSrc);
                using var src = CopyPath.Resolve(hostRoot, inRoot: false, Path.GetFullPath(hostSrc), followLink || spec.AssertsDir);
                if (src.Stat is not { } st)
                {
                    throw new CopyException($"lstat {hostSrc}: no such file or directory");
                }

                CheckSource(spec, st, hostSrc);
                var destSpec = Spec.Parse(destInContainer);
                using var dst = CopyPath.Resolve(dstRoot, inRoot: true, "/" + destInContainer, followFinal: true);
                if (dst.ParentFd < 0)
                {
                    throw new CopyException($"Could not find the file {dst.ShownParent} in container");
                }

                Place(src, st, spec, dst, destSpec, destInContainer, copyOwnership ? TreeCopier.Owner.Preserve : TreeCopier.Owner.Root);
            }
            finally
            {
                Sys.Close(hostRoot);
                Sys.Close(dstRoot);
            }
        });
    }

    /// <summary>Docker's placement rules (moby <c>pkg/archive/copy.go</c>, PrepareArchiveCopy), then the copy.</summary>
    private static void Place(CopyPath src, StatInfo st, Spec spec, CopyPath dst, Spec destSpec, string destShown, TreeCopier.Owner owner)
    {
        if (dst.Stat is { IsDir: true })
        {
            var dirFd = TreeCopier.OpenDir(dst.ParentFd, dst.Name);
            try
            {
                // "SRC/." (and "/", whose basename is no name at all): the contents, merged into DEST.
                if (st.IsDir && (spec.ContentsOnly || src.Name == "."))
                {
                    var srcFd = TreeCopier.OpenDir(src.ParentFd, src.Name);
                    try
                    {
                        TreeCopier.CopyChildren(srcFd, dirFd, dst.Shown, owner);
                    }
                    finally
                    {
                        Sys.Close(srcFd);
                    }

                    return;
                }

                TreeCopier.Copy(src.ParentFd, src.Name, st, dirFd, src.Name, Join(dst.Shown, src.Name), owner);
            }
            finally
            {
                Sys.Close(dirFd);
            }

            return;
        }

        if (dst.Stat is not null)
        {
            if (st.IsDir)
            {
                throw new CopyException($"cannot copy a directory to a file: \"{destShown}\" is not a directory");
            }

            if (destSpec.AssertsDir)
            {
                throw new CopyException($"\"{destShown}\": not a directory");
            }
        }
        else if (!st.IsDir && destSpec.AssertsDir)
        {
            throw new CopyException($"destination directory \"{destShown}\" does not exist");
        }

        TreeCopier.Copy(src.ParentFd, src.Name, st, dst.ParentFd, dst.Name, dst.Shown, owner);
    }

    private static void CheckSource(Spec spec, StatInfo st, string shown)
    {
        if (spec.AssertsDir && !st.IsDir)
        {
            throw new CopyException($"\"{shown}\": not a directory");
        }
    }

    private static string Join(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    private static int OpenRoot(string path)
    {
        try
        {
            return Sys.Open(path, OpenFlags.Path | OpenFlags.Directory);
        }
        catch (SysException e)
        {
            throw new CopyException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>One error type out: system and I/O failures become a <see cref="CopyException"/> naming the step.</summary>
    private static void Run(Action copy)
    {
        try
        {
            copy();
        }
        catch (SysException e)
        {
            throw new CopyException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new CopyException(e.Message, e);
        }
    }

    /// <summary>What the spelling of a path asserts, besides the path itself.</summary>
    private readonly record struct Spec(bool AssertsDir, bool ContentsOnly)
    {
        /// <summary>"x/" asserts a directory; "x/." (or ".") asks for a directory's contents (Docker's assertsDirectory, specifiesCurrentDir).</summary>
        public static Spec Parse(string path)
        {
            var contents = path == "." || path.EndsWith("/.", StringComparison.Ordinal);
            return new Spec(contents || path.EndsWith('/'), contents);
        }
    }
}
