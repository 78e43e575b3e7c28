using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Containers.Config;

/// <summary>
/// Reads and creates paths inside an image's rootfs, which is untrusted: every lookup goes through
/// <see cref="SecureJoin"/> (openat2 RESOLVE_IN_ROOT), so a symlinked <c>/etc/passwd</c> or working directory
/// resolves inside the rootfs, never to a host file (the CVE-2018-15664 class).
/// </summary>
internal sealed class RootfsFiles : IDisposable
{
    /// <summary>Larger passwd/group files are refused: a hostile image must not make us read gigabytes.</summary>
    internal const int MaxFileSize = 4 << 20;

    private readonly int _rootFd;

    public RootfsFiles(string rootPath)
    {
        try
        {
            _rootFd = Sys.Open(rootPath, OpenFlags.Path | OpenFlags.Directory);
        }
        catch (SysException e)
        {
            throw new ContainerException($"rootfs {rootPath}: {e.Message}");
        }
    }

    /// <summary>
    /// The contents of the regular file at <paramref name="path"/> (resolved inside the rootfs), or null when
    /// it does not exist or is not a regular file (a FIFO or device planted by an image must not block or act).
    /// </summary>
    public string? ReadText(string path)
    {
        int fd;
        try
        {
            fd = SecureJoin.TryOpen(_rootFd, path);
        }
        catch (SysException e) when (e.Errno == Consts.ENotDir)
        {
            fd = -1;
        }
        catch (SysException e)
        {
            throw new ContainerException($"open {path} in the image: {e.Message}");
        }

        if (fd < 0)
        {
            return null;
        }

        try
        {
            var st = FsAt.LStatAt(fd, "");
            if (st is not { Type: 0x8000 })
            {
                return null;
            }

            if (st.Value.Size > MaxFileSize)
            {
                throw new ContainerException($"{path} in the image is too large ({st.Value.Size} bytes)");
            }

            // Reopen the O_PATH fd for reading: the same inode, whatever happens to the path meanwhile.
            var rd = Sys.Open(SecureJoin.FdPath(fd), OpenFlags.RdOnly | OpenFlags.NonBlock | OpenFlags.NoCtty);
            try
            {
                var buf = new byte[(int)st.Value.Size + 1];
                var n = 0;
                int r;
                while (n < buf.Length && (r = Sys.Read(rd, buf.AsSpan(n))) > 0)
                {
                    n += r;
                }

                return System.Text.Encoding.UTF8.GetString(buf, 0, Math.Min(n, MaxFileSize));
            }
            finally
            {
                Sys.Close(rd);
            }
        }
        catch (SysException e)
        {
            throw new ContainerException($"read {path} in the image: {e.Message}");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    /// <summary>mkdir -p <paramref name="path"/> inside the rootfs (0755, owned by the caller: root).</summary>
    public void MkdirAll(string path)
    {
        Sys.Close(SecureJoin.MkdirAll(_rootFd, path));
    }

    public void Dispose() => Sys.Close(_rootFd);
}
