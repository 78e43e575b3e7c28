using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using MiniDock.Native;

namespace MiniDock.Images.Content;

/// <summary>
/// File-system content store, laid out like containerd's (content/local): <c>&lt;root&gt;/blobs/sha256/&lt;hex&gt;</c>
/// for verified blobs and <c>&lt;root&gt;/ingest/</c> for work in progress. Both directories are on the same file
/// system, so rename(2) is atomic: a reader sees either no blob or the whole verified blob, never a partial one,
/// even if the writer is killed (a killed writer leaves at most an ingest file, which
/// <see cref="CleanIngest"/> eventually removes).
/// </summary>
/// <remarks>
/// Concurrency: every writer writes to a file of its own (a unique temp name, or the ingest file it claimed by
/// renaming it to a unique name) and publishes with rename. Two writers of the same digest publish identical,
/// verified bytes, so whichever rename lands last replaces an identical inode; open readers keep the inode
/// they opened. A writer that finds the blob already present keeps it and discards its own copy.
/// </remarks>
public sealed class ContentStore : IContentStore
{
    private const string PartialSuffix = ".partial";
    private const int ORdOnly = 0, ORdWr = 2, OCreat = 0x40, ODirectory = 0x10000, OCloexec = 0x80000;
    private const int LockEx = 2, LockNb = 4, EWouldBlock = 11, EIntr = 4;

    private readonly string _blobDir;
    private readonly string _ingestDir;

    /// <summary>Creates (if needed) <c>blobs/sha256</c> and <c>ingest</c> under <paramref name="root"/>.</summary>
    public ContentStore(string root)
    {
        Root = Path.GetFullPath(root);
        _blobDir = Path.Combine(Root, "blobs", "sha256");
        _ingestDir = Path.Combine(Root, "ingest");
        Directory.CreateDirectory(_blobDir);
        Directory.CreateDirectory(_ingestDir);
    }

    /// <inheritdoc />
    public string Root { get; }

    /// <inheritdoc />
    public string IngestPath(string digest)
    {
        var hex = Digest.Hex(digest);
        Directory.CreateDirectory(_ingestDir);
        return Path.Combine(_ingestDir, hex + PartialSuffix);
    }

    /// <inheritdoc />
    public long IngestedLength(string digest)
    {
        var info = new FileInfo(IngestPath(digest));
        return info.Exists ? info.Length : 0;
    }

    /// <inheritdoc />
    public Task<IDisposable> LockIngestAsync(string digest, CancellationToken ct) =>
        LockAsync(Path.Combine(_ingestDir, Digest.Hex(digest) + ".lock"), ct);

    /// <inheritdoc />
    public bool Has(string digest) => File.Exists(BlobPath(digest));

    /// <inheritdoc />
    public string BlobPath(string digest) => Path.Combine(_blobDir, Digest.Hex(digest));

    /// <inheritdoc />
    public long Size(string digest)
    {
        var info = new FileInfo(BlobPath(digest));
        return info.Exists ? info.Length : throw new ContentException(ContentError.NotFound, $"blob {digest} not found");
    }

    /// <inheritdoc />
    public async Task CommitAsync(string digest, long expectedSize, CancellationToken ct)
    {
        var hex = Digest.Hex(digest);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedSize);
        var ingest = IngestPath(digest);

        // Serialise committers of one digest (across processes too): the second one then finds the blob present
        // instead of racing for an ingest file that the first has already moved away.
        using var commitLock = await LockAsync(Path.Combine(_ingestDir, hex + ".commit.lock"), ct).ConfigureAwait(false);

        if (Has(digest))
        {
            TryDelete(ingest);
            return;
        }

        var info = new FileInfo(ingest);
        if (!info.Exists)
        {
            throw new ContentException(ContentError.NotFound, $"commit {digest}: nothing ingested");
        }

        if (info.Length < expectedSize)
        {
            throw new ContentException(ContentError.Incomplete, $"commit {digest}: have {info.Length} of {expectedSize} bytes");
        }

        // Claim the ingest file under a unique name before hashing: from here on no stable-path writer can
        // change what we verify, and a failure removes only our claimed copy.
        var claimed = UniqueTemp(hex);
        File.Move(ingest, claimed);
        try
        {
            await using (var fs = new FileStream(claimed, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                if (fs.Length != expectedSize)
                {
                    throw new ContentException(ContentError.SizeMismatch, $"commit {digest}: size {fs.Length}, descriptor says {expectedSize}");
                }

                var actual = Digest.FromHash(await SHA256.HashDataAsync(fs, ct).ConfigureAwait(false));
                if (!string.Equals(actual, digest, StringComparison.Ordinal))
                {
                    throw new ContentException(ContentError.DigestMismatch, $"commit {digest}: content hashes to {actual}");
                }

                // Durability before visibility: the data must be on disk before the rename can be.
                RandomAccess.FlushToDisk(fs.SafeFileHandle);
            }

            Publish(claimed, hex);
        }
        catch (OperationCanceledException)
        {
            // Cancelled while hashing: put the bytes back so the pull can still resume from them.
            TryMoveBack(claimed, ingest);
            throw;
        }
        catch
        {
            TryDelete(claimed);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<string> WriteAsync(ReadOnlyMemory<byte> bytes, string? expectedDigest, CancellationToken ct)
    {
        if (expectedDigest is not null)
        {
            _ = Digest.Hex(expectedDigest);
        }

        var digest = Digest.Compute(bytes.Span);
        if (expectedDigest is not null && !string.Equals(digest, expectedDigest, StringComparison.Ordinal))
        {
            throw new ContentException(ContentError.DigestMismatch, $"write {expectedDigest}: content hashes to {digest}");
        }

        var hex = Digest.Hex(digest);
        if (Has(digest))
        {
            return digest;
        }

        var temp = UniqueTemp(hex);
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 12, FileOptions.Asynchronous))
            {
                await fs.WriteAsync(bytes, ct).ConfigureAwait(false);
                await fs.FlushAsync(ct).ConfigureAwait(false);
                RandomAccess.FlushToDisk(fs.SafeFileHandle);
            }

            Publish(temp, hex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        return digest;
    }

    /// <inheritdoc />
    public bool Delete(string digest)
    {
        var path = BlobPath(digest);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        return true;
    }

    /// <inheritdoc />
    public IEnumerable<string> List()
    {
        if (!Directory.Exists(_blobDir))
        {
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(_blobDir))
        {
            var digest = Digest.Sha256Prefix + Path.GetFileName(path);
            if (Digest.IsValid(digest))
            {
                yield return digest;
            }
        }
    }

    /// <inheritdoc />
    public void CleanIngest(TimeSpan olderThan)
    {
        if (!Directory.Exists(_ingestDir))
        {
            return;
        }

        var cutoff = DateTime.UtcNow - olderThan;
        foreach (var path in Directory.EnumerateFiles(_ingestDir))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(path) < cutoff)
                {
                    File.Delete(path);
                }
            }
            catch (IOException)
            {
                // Raced with a writer or another cleaner: the next clean gets it.
            }
        }
    }

    // Same directory as the partials (same file system as blobs/), unique per writer so writers never share a file.
    private string UniqueTemp(string hex) => Path.Combine(_ingestDir, $"{hex}.{Guid.NewGuid():N}.tmp");

    private void Publish(string verifiedTemp, string hex)
    {
        var target = Path.Combine(_blobDir, hex);
        if (File.Exists(target))
        {
            // Keep the existing blob: it was verified when it was published.
            TryDelete(verifiedTemp);
            return;
        }

        // rename(2): atomic; if another writer won in between, we replace identical verified bytes.
        File.Move(verifiedTemp, target, overwrite: true);
        FsyncDirectory(_blobDir);
    }

    private static void TryMoveBack(string claimed, string ingest)
    {
        try
        {
            if (!File.Exists(ingest))
            {
                File.Move(claimed, ingest);
                return;
            }
        }
        catch (IOException)
        {
        }

        TryDelete(claimed);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    // The rename is only durable once the directory entry is; without this a crash can lose a "committed" blob
    // that the database already references. Best effort: some file systems refuse fsync on directories.
    private static void FsyncDirectory(string dir)
    {
        var fd = Libc.open(dir, ORdOnly | ODirectory | OCloexec, 0);
        if (fd < 0)
        {
            return;
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (IOException)
        {
        }
    }

    // flock(2) on a lock file: released by the kernel if the process dies, so a killed pull never leaves a stale
    // lock. Polled with LOCK_NB so the wait is cancellable and never parks a thread-pool thread.
    private static async Task<IDisposable> LockAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var fd = Libc.open(path, ORdWr | OCreat | OCloexec, 0x1a4 /* 0644 */);
        if (fd < 0)
        {
            throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var delay = 2;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                if (Libc.flock(fd, LockEx | LockNb) == 0)
                {
                    return handle;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                if (errno != EWouldBlock)
                {
                    throw new IOException($"flock {path}: errno {errno}");
                }

                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 50);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }
}
