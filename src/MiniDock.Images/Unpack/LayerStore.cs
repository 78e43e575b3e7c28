using MiniDock.Images.Content;
using MiniDock.Native;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Unpacked layers, one directory per layer under <c>DATA/layers/&lt;chain-id hex&gt;</c>, in overlay form,
/// ready to be stacked as lowerdirs. Keyed by ChainID (image-spec config.md#layer-chainid), so identical
/// layer stacks are unpacked once and shared. A layer is extracted into a temporary directory, its DiffID
/// checked against the image config, and only then renamed into place: a killed pull never leaves a
/// half-unpacked layer where a container could use it.
/// </summary>
public sealed class LayerStore(string dataRoot)
{
    /// <summary>FS_TOPDIR_FL (ioctl_iflags(2)): "top of directory hierarchy" for ext4's Orlov allocator.</summary>
    private const int TopDirFlag = 0x00020000;

    /// <summary>Read-ahead for the compressed blob: the decompressors read it 8 KiB at a time.</summary>
    private const int BlobBuffer = 1 << 18;

    private bool _rootReady;

    public string Root { get; } = Path.Combine(dataRoot, "layers");

    public string PathOf(string chainId) => Path.Combine(Root, Digest.Hex(chainId));

    public bool Has(string chainId) => Directory.Exists(PathOf(chainId));

    /// <summary>
    /// Unpacks the blob at <paramref name="blobPath"/> as <paramref name="chainId"/>, unless it is there already.
    /// <paramref name="lowerDirs"/>: the layers below it, for hardlinks to their files (see
    /// <see cref="LayerExtractor.Extract(Stream, string, Func{CancellationToken, IReadOnlyList{string}}?, CancellationToken)"/>).
    /// </summary>
    public async Task UnpackAsync(string blobPath, string mediaType, string diffId, string chainId, CancellationToken ct, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs = null)
    {
        if (Has(chainId))
        {
            return;
        }

        var tmp = NewTemp(chainId);
        try
        {
            var actual = await Task.Factory.StartNew(
                () =>
                {
                    using var reader = LayerReader.Open(new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, BlobBuffer, FileOptions.SequentialScan), mediaType);
                    return new LayerExtractor().Extract(reader.Tar, tmp, lowerDirs, ct);
                },
                ct,
                TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
                TaskScheduler.Default).ConfigureAwait(false);
            if (actual != diffId)
            {
                throw new ContentException(ContentError.DigestMismatch, $"layer {diffId}: the uncompressed tar hashes to {actual} (DiffID mismatch)");
            }

            Publish(tmp, chainId);
        }
        catch
        {
            DeleteTree(tmp);
            throw;
        }
    }

    /// <summary>
    /// Starts unpacking <paramref name="chainId"/> from <paramref name="blob"/>, a blob whose download is still
    /// under way (an <see cref="IngestTail"/>), into a temporary directory on a thread of its own. Nothing is
    /// visible until <see cref="FinishAsync"/>, which the caller calls once the blob itself is verified, or
    /// <see cref="AbandonAsync"/> when the download failed.
    /// </summary>
    public PendingLayer BeginUnpack(Stream blob, string mediaType, string chainId, CancellationToken ct, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs = null)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tmp = NewTemp(chainId);
        var token = cts.Token;
        var work = Task.Factory.StartNew(
            () =>
            {
                LayerReader reader;
                try
                {
                    reader = LayerReader.Open(new BufferedStream(blob, BlobBuffer), mediaType);
                }
                catch
                {
                    blob.Dispose();
                    throw;
                }

                using (reader)
                {
                    return new LayerExtractor().Extract(reader.Tar, tmp, lowerDirs, token);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);
        return new PendingLayer(tmp, work, cts);
    }

    /// <summary>
    /// The blob at <paramref name="blobPath"/> is verified: publishes the streamed unpack when its DiffID is
    /// <paramref name="diffId"/>. When streaming did not work out (the download started over, or the stream
    /// failed in any way) the layer is unpacked again from the verified blob, which then reports the real
    /// error if there is one.
    /// </summary>
    public async Task FinishAsync(PendingLayer pending, string blobPath, string mediaType, string diffId, string chainId, CancellationToken ct, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs = null)
    {
        ArgumentNullException.ThrowIfNull(pending);
        string? actual = null;
        try
        {
            actual = await pending.Work.ConfigureAwait(false);
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            // Retried below from the blob, which reproduces a genuine error (a hostile entry, a bad tar).
        }
        catch
        {
            DeleteTree(pending.TempDir);
            throw;
        }
        finally
        {
            pending.Dispose();
        }

        if (actual == diffId)
        {
            try
            {
                Publish(pending.TempDir, chainId);
                return;
            }
            catch
            {
                DeleteTree(pending.TempDir);
                throw;
            }
        }

        DeleteTree(pending.TempDir);
        ct.ThrowIfCancellationRequested();
        await UnpackAsync(blobPath, mediaType, diffId, chainId, ct, lowerDirs).ConfigureAwait(false);
    }

    /// <summary>The download failed: stops the unpack, waits for its thread and removes what it wrote.</summary>
    public async Task AbandonAsync(PendingLayer pending)
    {
        ArgumentNullException.ThrowIfNull(pending);
        pending.Stop();
        try
        {
            await pending.Work.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Expected: its source failed. The download's error is the one to report.
        }
        finally
        {
            pending.Dispose();
            DeleteTree(pending.TempDir);
        }
    }

    /// <summary>Removes a layer directory (after the last image using it went away).</summary>
    public void Remove(string chainId) => DeleteTree(PathOf(chainId));

    /// <summary>Leftovers of killed unpacks.</summary>
    public void CleanTemporary()
    {
        if (Directory.Exists(Root))
        {
            foreach (var d in Directory.EnumerateDirectories(Root, ".tmp-*"))
            {
                DeleteTree(d);
            }
        }
    }

    private string NewTemp(string chainId)
    {
        EnsureRoot();
        var tmp = Path.Combine(Root, $".tmp-{Digest.Hex(chainId)[..12]}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        return tmp;
    }

    private void Publish(string tmp, string chainId)
    {
        try
        {
            Directory.Move(tmp, PathOf(chainId));
        }
        catch (IOException) when (Has(chainId))
        {
            // Another pull unpacked the same layer first: theirs is as good as ours.
            DeleteTree(tmp);
        }
    }

    /// <summary>
    /// Creates the layers directory and marks it FS_TOPDIR_FL (chattr +T), once per process. On ext4 this makes
    /// the Orlov allocator place each new layer directory (a random temporary name) in a block group of its
    /// own, as it does for the subdirectories of "/" or of /home, instead of next to its siblings. That matters
    /// on an ext4 without a journal: there, allocating an inode skips every inode of the group deleted in the
    /// last minute or so (ext4's recently_deleted(), a buffer-cache lookup each), so unpacking thousands of
    /// files where a removed image's thousands of files just were becomes quadratic (docs/performance.md,
    /// "Unpack"). Best effort: other file systems refuse or ignore the flag.
    /// </summary>
    private void EnsureRoot()
    {
        if (_rootReady)
        {
            return;
        }

        Directory.CreateDirectory(Root);
        try
        {
            var fd = Sys.Open(Root, OpenFlags.RdOnly | OpenFlags.Directory);
            try
            {
                if (FsAt.GetInodeFlags(fd) is { } flags && (flags & TopDirFlag) == 0)
                {
                    FsAt.SetInodeFlags(fd, flags | TopDirFlag);
                }
            }
            finally
            {
                Sys.Close(fd);
            }
        }
        catch (SysException)
        {
        }

        _rootReady = true;
    }

    private static void DeleteTree(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A layer being unpacked from a blob still downloading: see <see cref="LayerStore.BeginUnpack"/>.</summary>
public sealed class PendingLayer : IDisposable
{
    private readonly CancellationTokenSource _cts;

    internal PendingLayer(string tempDir, Task<string> work, CancellationTokenSource cts)
    {
        TempDir = tempDir;
        Work = work;
        _cts = cts;
    }

    /// <summary>Where it is being written (not visible as a layer).</summary>
    public string TempDir { get; }

    /// <summary>The extraction; its result is the DiffID of what it read.</summary>
    public Task<string> Work { get; }

    internal void Stop() => _cts.Cancel();

    public void Dispose() => _cts.Dispose();
}
