using System.Formats.Tar;
using System.Text;
using Microsoft.Win32.SafeHandles;
using MiniDock.Native;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Writes one layer tar into its own directory in OVERLAY form, ready to be an overlayfs lowerdir
/// (image-spec layer.md "Whiteouts"; kernel Documentation/filesystems/overlayfs.rst "whiteouts and opaque
/// directories"). System.Formats.Tar's <see cref="TarReader"/> parses (PAX, GNU long names, base-256 ids);
/// extraction is ours because TarFile.ExtractToDirectory refuses absolute symlinks and drops owners,
/// setuid bits and xattrs (design-notes §2).
/// Safety: every create happens relative to a parent fd opened with openat2(RESOLVE_IN_ROOT |
/// RESOLVE_NO_MAGICLINKS), and names are cleaned lexically, so neither "../", an absolute name nor a
/// symlink planted by an earlier entry can make a write land outside the target directory.
/// </summary>
public sealed class LayerExtractor
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const ulong InRoot = Resolve.InRoot | Resolve.NoMagicLinks;

    /// <summary>
    /// Extracts <paramref name="layerTar"/> (an UNCOMPRESSED tar; see <see cref="LayerReader"/>) into
    /// <paramref name="targetDir"/>, created if missing, and returns the DiffID ("sha256:…") of the bytes
    /// read. When <paramref name="layerTar"/> is already a <see cref="DiffIdStream"/> its hash is used.
    /// Must run as root (or with CAP_CHOWN, CAP_MKNOD, CAP_SYS_ADMIN for trusted.* xattrs).
    /// </summary>
    public async Task<string> ExtractAsync(Stream layerTar, string targetDir, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(layerTar);
        ArgumentException.ThrowIfNullOrEmpty(targetDir);
        Directory.CreateDirectory(targetDir);
        var hashed = layerTar as DiffIdStream ?? new DiffIdStream(layerTar);
        // A real (not O_PATH) fd: fchown/fchmod/futimens on the layer root itself need one.
        var rootFd = Sys.Open(Path.GetFullPath(targetDir), OpenFlags.RdOnly | OpenFlags.Directory);
        try
        {
            var dirTimes = new List<(string Path, DateTimeOffset Mtime)>();
            var reader = new TarReader(hashed, leaveOpen: true);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is { } entry)
                {
                    ct.ThrowIfCancellationRequested();
                    await ApplyAsync(rootFd, entry, dirTimes, ct).ConfigureAwait(false);
                }
            }

            // Directory mtimes last, deepest first: creating children changes a directory's mtime.
            for (var i = dirTimes.Count - 1; i >= 0; i--)
            {
                var (path, mtime) = dirTimes[i];
                var (sec, nsec) = ToTimespec(mtime);
                if (path.Length == 0)
                {
                    FsAt.SetTimesAt(rootFd, string.Empty, sec, nsec, noFollow: false);
                    continue;
                }

                var (pfd, name) = OpenParent(rootFd, path, create: false);
                try
                {
                    if (FsAt.LStatAt(pfd, name) is { IsDir: true })
                    {
                        FsAt.SetTimesAt(pfd, name, sec, nsec, noFollow: true);
                    }
                }
                finally
                {
                    Sys.Close(pfd);
                }
            }
        }
        finally
        {
            Sys.Close(rootFd);
        }

        return await hashed.DrainAndGetDiffIdAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Cleans a tar name lexically against a virtual "/" (as Docker's archive.go does with
    /// filepath.Clean("/"+name)): "..", "." and empty components are resolved so that the result can never
    /// climb above the layer root. Returns "" for the root itself.
    /// </summary>
    internal static string CleanName(string name)
    {
        var parts = new List<string>();
        foreach (var p in name.Split('/'))
        {
            if (p.Length == 0 || p == ".")
            {
                continue;
            }

            if (p == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(p);
        }

        return string.Join('/', parts);
    }

    /// <summary>True when a relative name climbs above its root: such a hardlink target is an attack (layer.md "Hardlinks").</summary>
    internal static bool Escapes(string name)
    {
        if (name.StartsWith('/'))
        {
            return false; // absolute link targets are relative to the layer root, and cleaning contains them
        }

        var depth = 0;
        foreach (var p in name.Split('/'))
        {
            if (p == "..")
            {
                if (--depth < 0)
                {
                    return true;
                }
            }
            else if (p.Length > 0 && p != ".")
            {
                depth++;
            }
        }

        return false;
    }

    private static async Task ApplyAsync(int rootFd, TarEntry entry, List<(string, DateTimeOffset)> dirTimes, CancellationToken ct)
    {
        if (entry.EntryType == TarEntryType.GlobalExtendedAttributes)
        {
            return; // pax_global_header (git archive): archive-wide metadata, nothing to create
        }

        var path = CleanName(entry.Name);
        if (path.Length == 0)
        {
            // "./" itself: only a directory's attributes make sense on the layer root.
            if (entry.EntryType == TarEntryType.Directory)
            {
                SetAttributes(rootFd, string.Empty, entry, isSymlink: false, fd: rootFd);
                dirTimes.Add((string.Empty, entry.ModificationTime));
            }

            return;
        }

        var slash = path.LastIndexOf('/');
        var baseName = slash < 0 ? path : path[(slash + 1)..];
        var dirPath = slash < 0 ? string.Empty : path[..slash];

        if (baseName == OpaqueMarker)
        {
            // Opaque applies to the directory as a whole, so its position in the tar does not matter.
            var dfd = OpenDir(rootFd, dirPath);
            try
            {
                FsAt.FSetXattr(dfd, "trusted.overlay.opaque", "y"u8);
            }
            finally
            {
                Sys.Close(dfd);
            }

            return;
        }

        if (baseName.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
        {
            return; // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlay
        }

        var (pfd, name) = OpenParent(rootFd, path, create: true);
        try
        {
            if (baseName.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                var hidden = baseName[WhiteoutPrefix.Length..];
                if (hidden.Length == 0 || hidden == "." || hidden == "..")
                {
                    throw new InvalidDataException($"invalid whiteout entry '{entry.Name}'");
                }

                // Anything already here came from this very layer, which a whiteout must not hide.
                if (FsAt.LStatAt(pfd, hidden) is null)
                {
                    Sys.Check(Libc.mknodat(pfd, hidden, StatMode.IfChr, FsAt.MakeDev(0, 0)), $"mknod whiteout {dirPath}/{hidden}");
                }

                return;
            }

            var existing = FsAt.LStatAt(pfd, name);
            if (existing is { } ex)
            {
                if (ex.IsDir && entry.EntryType == TarEntryType.Directory)
                {
                    // Directory over directory: attributes only (image-spec layer.md, "Changesets").
                    ApplyDirectoryAttributes(pfd, name, path, entry, dirTimes);
                    return;
                }

                Remove(pfd, name, ex);
            }

            await CreateAsync(rootFd, pfd, name, path, entry, dirTimes, ct).ConfigureAwait(false);
        }
        finally
        {
            Sys.Close(pfd);
        }
    }

    /// <summary>Owner, mode and xattrs of a directory now; its mtime at the end (children would change it).</summary>
    private static void ApplyDirectoryAttributes(int pfd, string name, string path, TarEntry entry, List<(string, DateTimeOffset)> dirTimes)
    {
        var dfd = Sys.OpenAt2(pfd, name, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, InRoot);
        try
        {
            SetAttributes(pfd, name, entry, isSymlink: false, fd: dfd);
        }
        finally
        {
            Sys.Close(dfd);
        }

        dirTimes.Add((path, entry.ModificationTime));
    }

    private static async Task CreateAsync(int rootFd, int pfd, string name, string path, TarEntry entry, List<(string, DateTimeOffset)> dirTimes, CancellationToken ct)
    {
        var perm = (uint)entry.Mode & 0xFFF;
        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                {
                    // O_EXCL|O_NOFOLLOW: the name was just unlinked, so this can only create a new inode,
                    // never open (and write through) a symlink that raced in.
                    var fd = Sys.OpenAt2(pfd, name, OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Excl | OpenFlags.NoFollow, 0x180, InRoot);
                    // The FileStream owns (and closes) the fd, so attributes are set before it is disposed.
                    var fs = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
                    await using (fs.ConfigureAwait(false))
                    {
                        if (entry.DataStream is { } data)
                        {
                            await data.CopyToAsync(fs, 128 * 1024, ct).ConfigureAwait(false);
                        }

                        SetAttributes(pfd, name, entry, isSymlink: false, fd: fd);
                    }

                    return;
                }

            case TarEntryType.Directory:
                {
                    Sys.Check(Libc.mkdirat(pfd, name, 0x1C0), $"mkdir {path}");
                    ApplyDirectoryAttributes(pfd, name, path, entry, dirTimes);
                    return;
                }

            case TarEntryType.SymbolicLink:
                // Verbatim, absolute targets included: they are resolved inside the container's root later.
                Sys.Check(Libc.symlinkat(entry.LinkName, pfd, name), $"symlink {path} -> {entry.LinkName}");
                SetAttributes(pfd, name, entry, isSymlink: true, fd: -1);
                return;

            case TarEntryType.HardLink:
                {
                    if (Escapes(entry.LinkName))
                    {
                        throw new InvalidDataException($"hardlink '{entry.Name}' -> '{entry.LinkName}' points outside the layer");
                    }

                    var target = CleanName(entry.LinkName);
                    if (target.Length == 0)
                    {
                        throw new InvalidDataException($"hardlink '{entry.Name}' has no target");
                    }

                    var (tfd, tname) = OpenParent(rootFd, target, create: false);
                    try
                    {
                        FsAt.LinkAt(tfd, tname, pfd, name);
                    }
                    finally
                    {
                        Sys.Close(tfd);
                    }

                    return;
                }

            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                {
                    var type = entry.EntryType switch
                    {
                        TarEntryType.CharacterDevice => StatMode.IfChr,
                        TarEntryType.BlockDevice => StatMode.IfBlk,
                        _ => StatMode.IfIfo,
                    };
                    var dev = entry is PosixTarEntry px && type != StatMode.IfIfo ? FsAt.MakeDev((uint)px.DeviceMajor, (uint)px.DeviceMinor) : 0;
                    Sys.Check(Libc.mknodat(pfd, name, type | perm, dev), $"mknod {path}");
                    SetAttributes(pfd, name, entry, isSymlink: false, fd: -1);
                    return;
                }

            default:
                throw new NotSupportedException($"tar entry '{entry.Name}' has unsupported type {entry.EntryType}");
        }
    }

    /// <summary>
    /// Owner, then mode, then xattrs, then times: chown(2) clears setuid/setgid and security.capability,
    /// so the mode and capabilities must come after it (spec-pitfalls "Ownership and capabilities").
    /// With <paramref name="fd"/> &lt; 0 the node is reached by name in <paramref name="pfd"/> without following it.
    /// </summary>
    private static void SetAttributes(int pfd, string name, TarEntry entry, bool isSymlink, int fd)
    {
        var uid = (uint)entry.Uid;
        var gid = (uint)entry.Gid;
        var mode = (uint)entry.Mode & 0xFFF;
        if (fd >= 0)
        {
            Sys.Check(Libc.fchown(fd, uid, gid), $"chown {name}");
            Sys.Check(Libc.fchmod(fd, mode), $"chmod {name}");
        }
        else
        {
            Sys.Check(Libc.fchownat(pfd, name, uid, gid, Consts.AtSymlinkNoFollow), $"lchown {name}");
            if (!isSymlink)
            {
                FsAt.ChmodAt(pfd, name, mode);
            }
        }

        foreach (var (key, value) in Xattrs(entry))
        {
            if (fd >= 0)
            {
                FsAt.FSetXattr(fd, key, value);
            }
            else
            {
                // Through our own parent fd: the final component is not followed (l*xattr).
                FsAt.LSetXattr($"/proc/self/fd/{pfd}/{name}", key, value);
            }
        }

        var (sec, nsec) = ToTimespec(entry.ModificationTime);
        if (fd >= 0)
        {
            FsAt.SetTimesAt(fd, string.Empty, sec, nsec, noFollow: false);
        }
        else
        {
            FsAt.SetTimesAt(pfd, name, sec, nsec, noFollow: true);
        }
    }

    /// <summary>
    /// PAX xattrs: "SCHILY.xattr.NAME" (GNU tar, Go archive/tar) carries raw bytes; "LIBARCHIVE.xattr.NAME"
    /// carries base64. TarReader decodes PAX values as UTF-8, so a raw value that was not valid UTF-8 is
    /// lost; that is refused rather than writing a corrupted security.capability.
    /// </summary>
    private static IEnumerable<(string Key, byte[] Value)> Xattrs(TarEntry entry)
    {
        if (entry is not PaxTarEntry pax)
        {
            yield break;
        }

        foreach (var (k, v) in pax.ExtendedAttributes)
        {
            if (k.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
            {
                if (v.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"xattr '{k}' of '{entry.Name}' is not valid UTF-8 and TarReader cannot return its raw bytes");
                }

                yield return (k["SCHILY.xattr.".Length..], Encoding.UTF8.GetBytes(v));
            }
            else if (k.StartsWith("LIBARCHIVE.xattr.", StringComparison.Ordinal))
            {
                var key = Uri.UnescapeDataString(k["LIBARCHIVE.xattr.".Length..]);
                if (pax.ExtendedAttributes.ContainsKey("SCHILY.xattr." + key))
                {
                    continue;
                }

                var b64 = v.Replace('-', '+').Replace('_', '/');
                b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
                yield return (key, Convert.FromBase64String(b64));
            }
        }
    }

    private static void Remove(int pfd, string name, StatInfo existing)
    {
        if (!existing.IsDir)
        {
            FsAt.UnlinkAt(pfd, name, 0);
            return;
        }

        var dfd = Sys.OpenAt2(pfd, name, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, InRoot);
        try
        {
            // Enumerate through our own fd; the children are removed by name relative to it, never followed.
            foreach (var child in Directory.EnumerateFileSystemEntries($"/proc/self/fd/{dfd}"))
            {
                var childName = Path.GetFileName(child);
                if (FsAt.LStatAt(dfd, childName) is { } st)
                {
                    Remove(dfd, childName, st);
                }
            }
        }
        finally
        {
            Sys.Close(dfd);
        }

        FsAt.UnlinkAt(pfd, name, FsAt.AtRemoveDir);
    }

    /// <summary>Opens (creating missing ones 0755 root:root when asked) the parent of <paramref name="path"/>, returning it and the last component.</summary>
    private static (int Fd, string Name) OpenParent(int rootFd, string path, bool create)
    {
        var slash = path.LastIndexOf('/');
        var name = slash < 0 ? path : path[(slash + 1)..];
        var dir = slash < 0 ? string.Empty : path[..slash];
        if (!create)
        {
            return (Sys.OpenAt2(rootFd, dir.Length == 0 ? "." : dir, OpenFlags.Path | OpenFlags.Directory, 0, InRoot), name);
        }

        return (OpenDir(rootFd, dir), name);
    }

    /// <summary>
    /// Opens directory <paramref name="dir"/> inside the root, creating missing components 0755 root:root
    /// (what umoci, Docker and containerd do for parents with no tar entry). A component that exists as a
    /// non-directory (a symlink included: RESOLVE_IN_ROOT follows it, but only within the root) is used as is;
    /// if that does not yield a directory, openat2 fails with ENOTDIR.
    /// </summary>
    private static int OpenDir(int rootFd, string dir)
    {
        var cur = Sys.OpenAt2(rootFd, ".", OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot);
        if (dir.Length == 0)
        {
            return cur;
        }

        try
        {
            var comps = dir.Split('/');
            for (var i = 0; i < comps.Length; i++)
            {
                var comp = comps[i];
                if (FsAt.LStatAt(cur, comp) is null)
                {
                    var rc = Libc.mkdirat(cur, comp, 0x1ED);
                    if (rc < 0 && Sys.Errno != Consts.EExist)
                    {
                        throw new SysException($"mkdir {comp}", Sys.Errno);
                    }

                    if (rc == 0)
                    {
                        Sys.Check(Libc.fchownat(cur, comp, 0, 0, Consts.AtSymlinkNoFollow), $"chown {comp}");
                        FsAt.ChmodAt(cur, comp, 0x1ED); // umask-proof
                    }
                }

                // Relative to the ROOT, not to cur: a symlink component then resolves as "/" = layer root.
                var next = Sys.OpenAt2(rootFd, string.Join('/', comps, 0, i + 1), OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot);
                Sys.Close(cur);
                cur = next;
            }

            return cur;
        }
        catch
        {
            Sys.Close(cur);
            throw;
        }
    }

    private static (long Sec, long Nsec) ToTimespec(DateTimeOffset t)
    {
        var ticks = (t.UtcDateTime - DateTime.UnixEpoch).Ticks;
        var sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rem);
        if (rem < 0)
        {
            sec--;
            rem += TimeSpan.TicksPerSecond;
        }

        return (sec, rem * 100);
    }
}
