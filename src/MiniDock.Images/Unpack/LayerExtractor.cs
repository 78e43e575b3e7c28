using System.Buffers;
using System.Formats.Tar;
using System.Globalization;
using System.Text;
using MiniDock.Native;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Writes one layer tar into its own directory in OVERLAY form, ready to be an overlayfs lowerdir
/// (image-spec layer.md "Whiteouts"; kernel Documentation/filesystems/overlayfs.rst "whiteouts and opaque
/// directories"). System.Formats.Tar's <see cref="TarReader"/> parses (PAX, GNU long names, base-256 ids);
/// extraction is ours because TarFile.ExtractToDirectory refuses absolute symlinks and drops owners,
/// setuid bits and xattrs (design-notes §2).
/// Safety: every create happens with a single, lexically cleaned name relative to a parent directory fd that
/// was itself opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the layer root, and never
/// follows a final symlink (O_EXCL|O_NOFOLLOW, AT_SYMLINK_NOFOLLOW): neither "../", an absolute name nor a
/// symlink planted by an earlier entry can make a write land outside the target directory.
/// </summary>
/// <remarks>
/// Speed (docs/performance.md, "Unpack"): extraction is synchronous on a thread of its own (no async hop per
/// entry); parent directory fds are cached by path (dropped whenever an entry removes anything, so a cached
/// fd is always the directory the path names now); a node is created with its final permission bits and
/// chown/chmod are only called when the kernel's defaults (fsuid, fsgid or the parent's setgid group; the
/// mode less the umask) differ from the entry; "already exists" is learnt from the create's EEXIST rather
/// than an lstat first; data is copied through a 1 MiB buffer; directory mtimes are set in one pass at the end.
/// About 4 syscalls per regular file (openat2, write, futimens, close) instead of about 30.
/// </remarks>
public sealed class LayerExtractor
{
    private const string WhiteoutPrefix = ".wh.";
    private const string WhiteoutMetaPrefix = ".wh..wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const ulong InRoot = Resolve.InRoot | Resolve.NoMagicLinks;
    private const int CopyBufferSize = 1 << 20;
    private const int EExist = 17;
    private const int ENoEnt = 2;
    private const int EXDev = 18;
    private const int EMLink = 31;
    private const string OpaqueXattr = "trusted.overlay.opaque";
    private const uint SetIdBits = 0xE00; // S_ISUID | S_ISGID | S_ISVTX
    private const uint SGid = 0x400;
    private const int NoData = 61; // ENODATA
    private const string DefaultAcl = "system.posix_acl_default";

    /// <summary>
    /// Extracts <paramref name="layerTar"/> (an UNCOMPRESSED tar; see <see cref="LayerReader"/>) into
    /// <paramref name="targetDir"/>, created if missing, and returns the DiffID ("sha256:…") of the bytes
    /// read. When <paramref name="layerTar"/> is already a <see cref="DiffIdStream"/> its hash is used.
    /// Runs <see cref="Extract(Stream, string, CancellationToken)"/> on a thread of its own (reads may block: the source can be a download in
    /// progress). Must run as root (or with CAP_CHOWN, CAP_MKNOD, CAP_SYS_ADMIN for trusted.* xattrs).
    /// </summary>
    public Task<string> ExtractAsync(Stream layerTar, string targetDir, CancellationToken ct)
        => ExtractAsync(layerTar, targetDir, null, ct);

    /// <summary>
    /// <see cref="ExtractAsync(Stream, string, CancellationToken)"/> for a layer that has layers below it:
    /// <paramref name="lowerDirs"/> is called (on the extraction thread, at most once, and only when a hardlink
    /// names a file that is not in this layer) and returns the unpacked dirs of the layers below, nearest first,
    /// once they are published (it may block until then).
    /// </summary>
    public Task<string> ExtractAsync(Stream layerTar, string targetDir, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(layerTar);
        ArgumentException.ThrowIfNullOrEmpty(targetDir);
        return Task.Factory.StartNew(
            () => Extract(layerTar, targetDir, lowerDirs, ct),
            ct,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);
    }

    /// <summary>The synchronous form of <see cref="ExtractAsync(Stream, string, CancellationToken)"/>.</summary>
    public string Extract(Stream layerTar, string targetDir, CancellationToken ct) => Extract(layerTar, targetDir, null, ct);

    /// <summary>The synchronous form of <see cref="ExtractAsync(Stream, string, Func{CancellationToken, IReadOnlyList{string}}?, CancellationToken)"/>.</summary>
    public string Extract(Stream layerTar, string targetDir, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(layerTar);
        ArgumentException.ThrowIfNullOrEmpty(targetDir);
        Directory.CreateDirectory(targetDir);
        var hashed = layerTar as DiffIdStream ?? new DiffIdStream(layerTar);
        using (var x = new Extraction(Path.GetFullPath(targetDir), lowerDirs, ct))
        {
            x.Run(hashed);
        }

        return hashed.DrainAndGetDiffId(ct);
    }

    /// <summary>
    /// Cleans a tar name lexically against a virtual "/" (as Docker's archive.go does with
    /// filepath.Clean("/"+name)): "..", "." and empty components are resolved so that the result can never
    /// climb above the layer root. Returns "" for the root itself.
    /// </summary>
    internal static string CleanName(string name)
    {
        // Fast path: already clean (no leading "/" or "./", no empty, "." or ".." component).
        if (IsClean(name))
        {
            return name.Length > 0 && name[^1] == '/' ? name[..^1] : name;
        }

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

    /// <summary>
    /// The same exception type (callers and the CLI tell errors apart by type), its message prefixed with the
    /// tar entry it happened at: `entry "link/pwned": openat2 link: …`. Null for what is not about the entry
    /// (the source stream failing, cancellation): that propagates as it is.
    /// </summary>
    internal static Exception? AtEntry(Exception e, string entryName)
    {
        var prefix = $"entry \"{OneLine(entryName)}\": ";
        return e switch
        {
            SysException s => new SysException(prefix + s.Operation, s.Errno),
            InvalidDataException => new InvalidDataException(prefix + OneLine(e.Message), e),
            NotSupportedException => new NotSupportedException(prefix + OneLine(e.Message), e),
            _ => null,
        };
    }

    /// <summary>Control characters (a newline in a hostile name) escaped, so that an error stays one line.</summary>
    private static string OneLine(string s)
    {
        if (!s.Any(char.IsControl))
        {
            return s;
        }

        var sb = new StringBuilder(s.Length + 8);
        foreach (var c in s)
        {
            sb.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        }

        return sb.ToString();
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

    /// <summary>"a/b/c" or "a/b/" : non-empty components, none "." or "..", at most one trailing "/".</summary>
    private static bool IsClean(string name)
    {
        var end = name.Length > 0 && name[^1] == '/' ? name.Length - 1 : name.Length;
        if (end == 0)
        {
            return false;
        }

        var start = 0;
        for (var i = 0; i <= end; i++)
        {
            if (i == end || name[i] == '/')
            {
                var len = i - start;
                if (len == 0 || (len == 1 && name[start] == '.') || (len == 2 && name[start] == '.' && name[start + 1] == '.'))
                {
                    return false;
                }

                start = i + 1;
            }
        }

        return true;
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

    /// <summary>
    /// PAX xattrs: "SCHILY.xattr.NAME" (GNU tar, Go archive/tar) carries raw bytes; "LIBARCHIVE.xattr.NAME"
    /// carries base64. TarReader decodes PAX values as UTF-8, so a raw value that was not valid UTF-8 (a binary
    /// security.capability such as cap_setuid=ep) comes back with U+FFFD in it: its bytes are then taken from
    /// <paramref name="rawHeaders"/>, the header bytes TarReader read for this entry; if they are not there
    /// the entry is refused rather than writing a corrupted value.
    /// </summary>
    private static List<(string Key, byte[] Value)>? Xattrs(TarEntry entry, ReadOnlySpan<byte> rawHeaders)
    {
        if (entry is not PaxTarEntry pax || pax.ExtendedAttributes.Count == 0)
        {
            return null;
        }

        List<(string, byte[])>? list = null;
        foreach (var (k, v) in pax.ExtendedAttributes)
        {
            if (k.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
            {
                var value = v.Contains('\uFFFD', StringComparison.Ordinal)
                    ? RawPaxValue(rawHeaders, k) ?? throw new InvalidDataException($"xattr '{k}' is not valid UTF-8 and its raw bytes could not be recovered")
                    : Encoding.UTF8.GetBytes(v);
                (list ??= []).Add((k["SCHILY.xattr.".Length..], value));
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
                (list ??= []).Add((key, Convert.FromBase64String(b64)));
            }
        }

        return list;
    }

    /// <summary>
    /// The raw value of PAX record <paramref name="key"/> ("LEN KEY=VALUE\n", LEN the record's byte count, so
    /// the value may hold any byte) in <paramref name="headers"/>; the last such record, null when none parses.
    /// </summary>
    internal static byte[]? RawPaxValue(ReadOnlySpan<byte> headers, string key)
    {
        var needle = Encoding.UTF8.GetBytes(" " + key + "=");
        var end = headers.Length;
        while (end > 0)
        {
            var at = headers[..end].LastIndexOf(needle);
            if (at < 0)
            {
                return null;
            }

            end = at;
            var start = at;
            while (start > 0 && headers[start - 1] >= (byte)'0' && headers[start - 1] <= (byte)'9')
            {
                start--;
            }

            if (start == at || !int.TryParse(headers[start..at], NumberStyles.None, CultureInfo.InvariantCulture, out var len))
            {
                continue;
            }

            var valueStart = at + needle.Length;
            var recordEnd = start + len;
            if (recordEnd > headers.Length || recordEnd <= valueStart || headers[recordEnd - 1] != (byte)'\n')
            {
                continue;
            }

            return headers[valueStart..(recordEnd - 1)].ToArray();
        }

        return null;
    }

    /// <summary>
    /// Passes reads through, and keeps what is read while <see cref="Recording"/> (TarReader reading the headers
    /// of the next entry: PAX and GNU long-name blocks and the header itself), so that bytes TarReader decodes
    /// lossily can be read again. Capped; entry data is read with recording off.
    /// </summary>
    private sealed class HeaderRecorder(Stream inner) : Stream
    {
        private const int Cap = 8 << 20;
        private byte[] _buf = new byte[16 << 10];
        private int _len;
        private bool _overflow;

        public bool Recording { get; private set; }

        public ReadOnlySpan<byte> Recorded => _overflow ? default : _buf.AsSpan(0, _len);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Start()
        {
            _len = 0;
            _overflow = false;
            Recording = true;
        }

        public void Stop() => Recording = false;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            if (Recording && n > 0 && !_overflow)
            {
                if (_len + n > _buf.Length)
                {
                    if (_len + n > Cap)
                    {
                        _overflow = true;
                        return n;
                    }

                    Array.Resize(ref _buf, Math.Min(Cap, Math.Max(_buf.Length * 2, _len + n)));
                }

                buffer[..n].CopyTo(_buf.AsSpan(_len));
                _len += n;
            }

            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>The owner new nodes get (fsuid, fsgid) and the umask, from /proc/self/status.</summary>
    private readonly record struct Identity(uint Uid, uint Gid, uint Umask)
    {
        /// <summary>When /proc cannot tell, nothing is assumed: every node then gets its chown and chmod.</summary>
        private static readonly Identity Unknown = new(uint.MaxValue, uint.MaxValue, 0xFFF);

        public static Identity Read()
        {
            try
            {
                uint? uid = null, gid = null, umask = null;
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("Umask:", StringComparison.Ordinal))
                    {
                        umask = Convert.ToUInt32(line["Umask:".Length..].Trim(), 8);
                    }
                    else if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        uid = FsId(line);
                    }
                    else if (line.StartsWith("Gid:", StringComparison.Ordinal))
                    {
                        gid = FsId(line);
                    }
                }

                return uid is { } u && gid is { } g && umask is { } m ? new Identity(u, g, m & 0x1FF) : Unknown;
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or OverflowException)
            {
                return Unknown;
            }

            // "Uid:\treal\teffective\tsaved\tfilesystem": file creation uses the last.
            static uint? FsId(string line)
            {
                var f = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                return f.Length >= 5 && uint.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
            }
        }
    }

    /// <summary>An open directory inside the layer, with the group the kernel gives what is created in it.</summary>
    private readonly record struct Dir(int Fd, uint NewGid, bool SetGid);

    /// <summary>One extraction: the layer root fd, the parent-dir cache, the copy buffer and the deferred directory times.</summary>
    private sealed class Extraction : IDisposable
    {
        private const int CacheSize = 16;

        private readonly int _root;
        private readonly CancellationToken _ct;
        private readonly Func<CancellationToken, IReadOnlyList<string>>? _lowerDirs;
        private IReadOnlyList<string>? _lowers;
        private HeaderRecorder? _headers;
        private readonly Identity _id = Identity.Read();
        private readonly byte[] _buf = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        private readonly List<(string Path, DateTimeOffset Mtime)> _dirTimes = [];

        // Parent directories by cleaned path. An fd here was resolved in-root from _root when cached; it stays
        // the directory its path names because entries never rename, and anything that removes a node drops
        // the whole cache (after the entry in progress, which may still use its parent).
        private readonly string?[] _paths = new string?[CacheSize];
        private readonly Dir[] _dirs = new Dir[CacheSize];
        private int _next;
        private bool _dropAll;

        // A default ACL (on the layer root, inherited from above it, or set by an entry) replaces the umask
        // for what is created below it, so the create mode can no longer be predicted: chmod every node then.
        private bool _alwaysChmod;
        private string? _dropOne;

        public Extraction(string targetDir, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs, CancellationToken ct)
        {
            _ct = ct;
            _lowerDirs = lowerDirs;

            // A real (not O_PATH) fd: fchown/fchmod/futimens/fsetxattr on the layer root itself need one.
            _root = Sys.Open(targetDir, OpenFlags.RdOnly | OpenFlags.Directory);
            _alwaysChmod = FsAt.FGetXattrSize(_root, DefaultAcl) != -NoData;
        }

        public void Run(Stream tar)
        {
            _headers = new HeaderRecorder(tar);
            using (var reader = new TarReader(_headers, leaveOpen: true))
            {
                string? last = null;
                while (Next(reader, _headers, last) is { } entry)
                {
                    _ct.ThrowIfCancellationRequested();
                    last = entry.Name;
                    try
                    {
                        Apply(entry);
                    }
                    catch (Exception e) when (AtEntry(e, entry.Name) is { } named)
                    {
                        throw named;
                    }
                    finally
                    {
                        EndEntry();
                    }
                }
            }

            SetDirectoryTimes();
        }

        /// <summary>The next entry; a malformed header is reported with the entry it follows.</summary>
        private static TarEntry? Next(TarReader reader, HeaderRecorder headers, string? last)
        {
            headers.Start();
            try
            {
                return reader.GetNextEntry(copyData: false);
            }
            catch (InvalidDataException e) when (last is not null)
            {
                throw new InvalidDataException($"after entry \"{OneLine(last)}\": {OneLine(e.Message)}", e);
            }
            finally
            {
                headers.Stop();
            }
        }

        public void Dispose()
        {
            for (var i = 0; i < CacheSize; i++)
            {
                Drop(i);
            }

            Sys.Close(_root);
            ArrayPool<byte>.Shared.Return(_buf);
        }

        private void Apply(TarEntry entry)
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
                    SetAttributes(_root, entry, Xattrs(entry, _headers!.Recorded), chown: true, chmod: true);
                    _dirTimes.Add((string.Empty, entry.ModificationTime));
                    _dropOne = string.Empty; // its setgid bit (what children inherit) may have changed
                }

                return;
            }

            var slash = path.LastIndexOf('/');
            var name = slash < 0 ? path : path[(slash + 1)..];
            var dirPath = slash < 0 ? string.Empty : path[..slash];

            if (name == OpaqueMarker)
            {
                // Opaque applies to the directory as a whole, so its position in the tar does not matter.
                FsAt.FSetXattr(Parent(dirPath).Fd, "trusted.overlay.opaque", "y"u8);
                return;
            }

            if (name.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
            {
                return; // aufs metadata (.wh..wh.plnk, .wh..wh.aufs): meaningless to overlay
            }

            var parent = Parent(dirPath);
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                var hidden = name[WhiteoutPrefix.Length..];
                if (hidden.Length == 0 || hidden == "." || hidden == "..")
                {
                    throw new InvalidDataException($"invalid whiteout entry '{entry.Name}'");
                }

                // Anything already here came from this very layer, which a whiteout must not hide: EEXIST is fine.
                var rc = FsAt.TryMknodAt(parent.Fd, hidden, StatMode.IfChr, FsAt.MakeDev(0, 0));
                if (rc < 0 && rc != -EExist)
                {
                    throw new SysException($"mknod whiteout {dirPath}/{hidden}", -rc);
                }

                return;
            }

            Create(parent, name, path, entry);
        }

        private void Create(Dir parent, string name, string path, TarEntry entry)
        {
            var mode = (uint)entry.Mode & 0xFFF;
            var xattrs = Xattrs(entry, _headers!.Recorded);
            if (xattrs?.Exists(x => x.Key == DefaultAcl) == true)
            {
                _alwaysChmod = true;
            }

            var chown = (uint)entry.Uid != _id.Uid || (uint)entry.Gid != parent.NewGid;
            var chmod = _alwaysChmod || (mode & SetIdBits) != 0 || (mode & _id.Umask) != 0;
            switch (entry.EntryType)
            {
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    {
                        // O_EXCL|O_NOFOLLOW: this can only create a new inode, never open (and write through) a
                        // symlink or a file that is already there; those are removed first, then created again.
                        const int flags = OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Excl | OpenFlags.NoFollow;
                        var fd = FsAt.TryOpenAt2(parent.Fd, name, flags, mode & 0x1FF, InRoot);
                        if (fd == -EExist)
                        {
                            ReplaceExisting(parent, name);
                            fd = FsAt.TryOpenAt2(parent.Fd, name, flags, mode & 0x1FF, InRoot);
                        }

                        if (fd < 0)
                        {
                            throw new SysException($"openat2 {path}", -fd);
                        }

                        try
                        {
                            if (entry.DataStream is { } data)
                            {
                                Copy(data, fd);
                            }

                            SetAttributes(fd, entry, xattrs, chown, chmod);
                        }
                        finally
                        {
                            Sys.Close(fd);
                        }

                        return;
                    }

                case TarEntryType.Directory:
                    {
                        var rc = FsAt.TryMkdirAt(parent.Fd, name, mode & 0x3FF);
                        if (rc == -EExist)
                        {
                            if (FsAt.LStatAt(parent.Fd, name) is { IsDir: true })
                            {
                                // Directory over directory: attributes only (image-spec layer.md, "Changesets").
                                ApplyDirectoryAttributes(parent, name, path, entry, xattrs, chown: true, chmod: true);
                                _dropOne = path; // its setgid bit (what children inherit) may have changed
                                return;
                            }

                            ReplaceExisting(parent, name);
                            rc = FsAt.TryMkdirAt(parent.Fd, name, mode & 0x3FF);
                        }

                        if (rc < 0)
                        {
                            throw new SysException($"mkdir {path}", -rc);
                        }

                        // In a setgid parent a new directory inherits S_ISGID: chmod takes it off unless wanted.
                        ApplyDirectoryAttributes(parent, name, path, entry, xattrs, chown, chmod || parent.SetGid);
                        return;
                    }

                case TarEntryType.SymbolicLink:
                    {
                        // Verbatim, absolute targets included: they are resolved inside the container's root later.
                        var rc = FsAt.TrySymlinkAt(entry.LinkName, parent.Fd, name);
                        if (rc == -EExist)
                        {
                            ReplaceExisting(parent, name);
                            rc = FsAt.TrySymlinkAt(entry.LinkName, parent.Fd, name);
                        }

                        if (rc < 0)
                        {
                            throw new SysException($"symlink {path} -> {entry.LinkName}", -rc);
                        }

                        SetAttributesByName(parent.Fd, name, entry, xattrs, chown, chmod: false);
                        return;
                    }

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

                        // The target's directory is opened afresh (in-root, never from the cache): the replace
                        // below may invalidate cached fds.
                        var rc = TryLink(target, parent.Fd, name);
                        if (rc == -EExist)
                        {
                            ReplaceExisting(parent, name);
                            rc = TryLink(target, parent.Fd, name);
                        }

                        if (rc == -ENoEnt && _lowerDirs is not null)
                        {
                            // Not in this layer: a file of a layer below (image-spec layer.md "Hardlinks").
                            LinkFromBelow(target, parent, name, path);
                            return;
                        }

                        if (rc < 0)
                        {
                            throw new SysException($"linkat {target} -> {path}", -rc);
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
                        var rc = FsAt.TryMknodAt(parent.Fd, name, type | (mode & 0x1FF), dev);
                        if (rc == -EExist)
                        {
                            ReplaceExisting(parent, name);
                            rc = FsAt.TryMknodAt(parent.Fd, name, type | (mode & 0x1FF), dev);
                        }

                        if (rc < 0)
                        {
                            throw new SysException($"mknod {path}", -rc);
                        }

                        SetAttributesByName(parent.Fd, name, entry, xattrs, chown, chmod);
                        return;
                    }

                default:
                    throw new NotSupportedException($"tar entry '{entry.Name}' has unsupported type {entry.EntryType}");
            }
        }

        /// <summary>
        /// A node of this very layer is already at <paramref name="name"/>: removes it (a whole tree for a
        /// directory) so that the entry can be created in its place, and drops the parent-dir cache (after this
        /// entry: <paramref name="parent"/> itself stays valid, only what was below the removed node could not).
        /// </summary>
        private void ReplaceExisting(Dir parent, string name)
        {
            if (FsAt.LStatAt(parent.Fd, name) is { } existing)
            {
                Remove(parent.Fd, name, existing);
                _dropAll = true;
            }
        }

        private int TryLink(string target, int newDirFd, string newName)
        {
            var slash = target.LastIndexOf('/');
            var tname = slash < 0 ? target : target[(slash + 1)..];
            var tdir = slash < 0 ? "." : target[..slash];
            var tfd = FsAt.TryOpenAt2(_root, tdir, OpenFlags.Path | OpenFlags.Directory, 0, InRoot);
            if (tfd < 0)
            {
                return tfd;
            }

            try
            {
                return FsAt.TryLinkAt(tfd, tname, newDirFd, newName);
            }
            finally
            {
                Sys.Close(tfd);
            }
        }

        /// <summary>
        /// A hardlink whose target is not in this layer: the target is looked up in the layers below, nearest
        /// first, as the merged (overlay) view would show it, and linked into this layer (linkat across layer
        /// dirs; layers are never modified once published) or copied when the link is refused (EXDEV, EMLINK).
        /// A whiteout or an opaque directory on the way (in this layer or a lower one) hides what is below:
        /// the target is then not found, an error as for any missing hardlink target.
        /// </summary>
        private void LinkFromBelow(string target, Dir parent, string name, string path)
        {
            _lowers ??= _lowerDirs!(_ct);
            for (var k = 0; k <= _lowers.Count; k++)
            {
                var root = k == 0 ? _root : Sys.Open(_lowers[k - 1], OpenFlags.RdOnly | OpenFlags.Directory);
                try
                {
                    var (state, dfd, leaf) = Find(root, target);
                    if (state == Lookup.Hidden)
                    {
                        break;
                    }

                    if (state == Lookup.Missing)
                    {
                        continue;
                    }

                    try
                    {
                        var rc = FsAt.TryLinkAt(dfd, leaf, parent.Fd, name);
                        if (rc == -EExist)
                        {
                            ReplaceExisting(parent, name);
                            rc = FsAt.TryLinkAt(dfd, leaf, parent.Fd, name);
                        }

                        if (rc == -EXDev || rc == -EMLink)
                        {
                            CopyFile(dfd, leaf, parent, name, path);
                        }
                        else if (rc < 0)
                        {
                            throw new SysException($"linkat {target} (of a lower layer) -> {path}", -rc);
                        }

                        return;
                    }
                    finally
                    {
                        Sys.Close(dfd);
                    }
                }
                finally
                {
                    if (root != _root)
                    {
                        Sys.Close(root);
                    }
                }
            }

            throw new SysException($"linkat {target} -> {path} (not in this layer nor the layers below it)", ENoEnt);
        }

        private enum Lookup
        {
            Missing,
            Hidden,
            Found,
        }

        /// <summary>
        /// <paramref name="target"/> (cleaned, relative) in the layer dir <paramref name="root"/>, one component at a
        /// time, never following a symlink (RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS: nothing outside the layer dir
        /// can be reached). Found: the open parent dir (the caller closes it) and the name. Hidden: a whiteout, a
        /// non-directory where a directory is needed, or an opaque directory above a missing name: nothing below
        /// this layer can show through.
        /// </summary>
        private static (Lookup State, int DirFd, string Leaf) Find(int root, string target)
        {
            var comps = target.Split('/');
            var cur = Sys.OpenAt2(root, ".", OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot | Resolve.NoSymlinks);
            var opaque = FsAt.FGetXattrSize(cur, OpaqueXattr) > 0;
            try
            {
                for (var i = 0; i < comps.Length - 1; i++)
                {
                    var st = FsAt.LStatAt(cur, comps[i]);
                    if (st is null)
                    {
                        return (opaque ? Lookup.Hidden : Lookup.Missing, -1, string.Empty);
                    }

                    if (!st.Value.IsDir)
                    {
                        return (Lookup.Hidden, -1, string.Empty);
                    }

                    var next = Sys.OpenAt2(cur, comps[i], OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, InRoot | Resolve.NoSymlinks);
                    Sys.Close(cur);
                    cur = next;
                    opaque |= FsAt.FGetXattrSize(cur, OpaqueXattr) > 0;
                }

                var leaf = comps[^1];
                var found = FsAt.LStatAt(cur, leaf);
                if (found is null)
                {
                    return (opaque ? Lookup.Hidden : Lookup.Missing, -1, string.Empty);
                }

                if (found.Value.Type == StatMode.IfChr && found.Value.Rdev == 0)
                {
                    return (Lookup.Hidden, -1, string.Empty); // a whiteout
                }

                if (found.Value.IsDir)
                {
                    throw new InvalidDataException($"hardlink target '{target}' is a directory");
                }

                var dfd = cur;
                cur = -1;
                return (Lookup.Found, dfd, leaf);
            }
            finally
            {
                if (cur >= 0)
                {
                    Sys.Close(cur);
                }
            }
        }

        /// <summary>A copy of the regular file <paramref name="leaf"/> of <paramref name="dfd"/>: data, owner, mode, xattrs and mtime.</summary>
        private void CopyFile(int dfd, string leaf, Dir parent, string name, string path)
        {
            var src = Sys.OpenAt2(dfd, leaf, OpenFlags.RdOnly | OpenFlags.NoFollow, 0, InRoot | Resolve.NoSymlinks);
            try
            {
                var st = FsAt.FStat(src);
                if (st.Type != 0x8000)
                {
                    throw new InvalidDataException($"hardlink {path}: its lower-layer target cannot be linked and is not a regular file to copy");
                }

                const int flags = OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Excl | OpenFlags.NoFollow;
                var fd = FsAt.TryOpenAt2(parent.Fd, name, flags, 0x180, InRoot);
                if (fd < 0)
                {
                    throw new SysException($"openat2 {path}", -fd);
                }

                try
                {
                    long offset = 0;
                    int n;
                    while ((n = FsAt.PRead(src, _buf, offset)) > 0)
                    {
                        Sys.WriteAll(fd, _buf.AsSpan(0, n));
                        offset += n;
                    }

                    Sys.Check(Libc.fchown(fd, st.Uid, st.Gid), $"chown {path}");
                    Sys.Check(Libc.fchmod(fd, st.Mode & 0xFFF), $"chmod {path}");
                    foreach (var key in FsAt.LListXattr($"/proc/self/fd/{src}"))
                    {
                        if (FsAt.LGetXattr($"/proc/self/fd/{src}", key) is { } value)
                        {
                            FsAt.FSetXattr(fd, key, value);
                        }
                    }

                    FsAt.FutimeNs(fd, st.MtimeSec, st.MtimeNsec);
                }
                finally
                {
                    Sys.Close(fd);
                }
            }
            finally
            {
                Sys.Close(src);
            }
        }

        /// <summary>Owner, mode and xattrs of a directory now; its mtime at the end (children would change it).</summary>
        private void ApplyDirectoryAttributes(Dir parent, string name, string path, TarEntry entry, List<(string, byte[])>? xattrs, bool chown, bool chmod)
        {
            if (chown || chmod || xattrs is not null)
            {
                var dfd = Sys.OpenAt2(parent.Fd, name, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, InRoot);
                try
                {
                    SetAttributes(dfd, entry, xattrs, chown, chmod, times: false);
                }
                finally
                {
                    Sys.Close(dfd);
                }
            }

            _dirTimes.Add((path, entry.ModificationTime));
        }

        /// <summary>
        /// Owner, then mode, then xattrs, then times, on an open fd: chown(2) clears setuid/setgid and
        /// security.capability, so the mode and capabilities must come after it (spec-pitfalls "Ownership and
        /// capabilities").
        /// </summary>
        private static void SetAttributes(int fd, TarEntry entry, List<(string Key, byte[] Value)>? xattrs, bool chown, bool chmod, bool times = true)
        {
            if (chown)
            {
                Sys.Check(Libc.fchown(fd, (uint)entry.Uid, (uint)entry.Gid), $"chown {entry.Name}");
            }

            if (chmod)
            {
                Sys.Check(Libc.fchmod(fd, (uint)entry.Mode & 0xFFF), $"chmod {entry.Name}");
            }

            if (xattrs is not null)
            {
                foreach (var (key, value) in xattrs)
                {
                    FsAt.FSetXattr(fd, key, value);
                }
            }

            if (times)
            {
                var (sec, nsec) = ToTimespec(entry.ModificationTime);
                FsAt.FutimeNs(fd, sec, nsec);
            }
        }

        /// <summary>The same for a node reached by name in <paramref name="pfd"/> without following it (symlinks, devices).</summary>
        private static void SetAttributesByName(int pfd, string name, TarEntry entry, List<(string Key, byte[] Value)>? xattrs, bool chown, bool chmod)
        {
            if (chown)
            {
                Sys.Check(Libc.fchownat(pfd, name, (uint)entry.Uid, (uint)entry.Gid, Consts.AtSymlinkNoFollow), $"lchown {entry.Name}");
            }

            if (chmod)
            {
                FsAt.ChmodAt(pfd, name, (uint)entry.Mode & 0xFFF); // never called for a symlink
            }

            if (xattrs is not null)
            {
                foreach (var (key, value) in xattrs)
                {
                    // Through our own parent fd: the final component is not followed (l*xattr).
                    FsAt.LSetXattr($"/proc/self/fd/{pfd}/{name}", key, value);
                }
            }

            var (sec, nsec) = ToTimespec(entry.ModificationTime);
            FsAt.SetTimesAt(pfd, name, sec, nsec, noFollow: true);
        }

        /// <summary>The entry's data into <paramref name="fd"/>, a full buffer per write(2).</summary>
        private void Copy(Stream data, int fd)
        {
            while (true)
            {
                var filled = 0;
                int n;
                while (filled < _buf.Length && (n = data.Read(_buf, filled, _buf.Length - filled)) > 0)
                {
                    filled += n;
                }

                if (filled == 0)
                {
                    return;
                }

                Sys.WriteAll(fd, _buf.AsSpan(0, filled));
                if (filled < _buf.Length)
                {
                    return;
                }

                _ct.ThrowIfCancellationRequested();
            }
        }

        /// <summary>Directory mtimes last, deepest (latest) first: creating children changes a directory's mtime.</summary>
        private void SetDirectoryTimes()
        {
            for (var i = _dirTimes.Count - 1; i >= 0; i--)
            {
                var (path, mtime) = _dirTimes[i];
                var (sec, nsec) = ToTimespec(mtime);
                if (path.Length == 0)
                {
                    FsAt.FutimeNs(_root, sec, nsec);
                    continue;
                }

                // O_NOFOLLOW|O_DIRECTORY: a directory that a later entry replaced (by a symlink, a file) is skipped.
                var fd = FsAt.TryOpenAt2(_root, path, OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, InRoot);
                if (fd < 0)
                {
                    continue;
                }

                try
                {
                    FsAt.FutimeNs(fd, sec, nsec);
                }
                finally
                {
                    Sys.Close(fd);
                }
            }
        }

        /// <summary>The directory <paramref name="dirPath"/> (created 0755 root:root with any missing parent), from the cache when there.</summary>
        private Dir Parent(string dirPath)
        {
            for (var i = 0; i < CacheSize; i++)
            {
                if (_paths[i] is { } p && string.Equals(p, dirPath, StringComparison.Ordinal))
                {
                    return _dirs[i];
                }
            }

            int fd;
            if (dirPath.Length == 0)
            {
                fd = _root;
            }
            else
            {
                fd = FsAt.TryOpenAt2(_root, dirPath, OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot);
                if (fd < 0)
                {
                    fd = OpenDir(dirPath);
                }
            }

            Dir dir;
            try
            {
                var st = FsAt.FStat(fd);
                var setgid = (st.Mode & SGid) != 0;
                dir = new Dir(fd, setgid ? st.Gid : _id.Gid, setgid);
            }
            catch
            {
                if (fd != _root)
                {
                    Sys.Close(fd);
                }

                throw;
            }

            // Round-robin replacement: one lookup per entry, so the slot taken is never one in use.
            var slot = _next;
            _next = (_next + 1) % CacheSize;
            Drop(slot);
            _paths[slot] = dirPath;
            _dirs[slot] = dir;
            return dir;
        }

        private void EndEntry()
        {
            if (_dropAll)
            {
                for (var i = 0; i < CacheSize; i++)
                {
                    Drop(i);
                }
            }
            else if (_dropOne is { } one)
            {
                for (var i = 0; i < CacheSize; i++)
                {
                    if (_paths[i] is { } p && string.Equals(p, one, StringComparison.Ordinal))
                    {
                        Drop(i);
                    }
                }
            }

            _dropAll = false;
            _dropOne = null;
        }

        private void Drop(int slot)
        {
            if (_paths[slot] is not null && _dirs[slot].Fd != _root)
            {
                Sys.Close(_dirs[slot].Fd);
            }

            _paths[slot] = null;
            _dirs[slot] = default;
        }

        /// <summary>
        /// Opens directory <paramref name="dir"/> inside the root, creating missing components 0755 root:root
        /// (what umoci, Docker and containerd do for parents with no tar entry). A component that exists as a
        /// non-directory (a symlink included: RESOLVE_IN_ROOT follows it, but only within the root) is used as is;
        /// if that does not yield a directory, openat2 fails with ENOTDIR.
        /// </summary>
        private int OpenDir(string dir)
        {
            var cur = Sys.OpenAt2(_root, ".", OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot);
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
                    var next = Sys.OpenAt2(_root, string.Join('/', comps, 0, i + 1), OpenFlags.RdOnly | OpenFlags.Directory, 0, InRoot);
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
    }
}
