using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using MiniDock.Images.Content;
using MiniDock.Images.Unpack;
using MiniDock.Native;

namespace MiniDock.Images.Tests.Unpack;

/// <summary>
/// Unpacking while the blob downloads: <see cref="IngestTail"/> reads only what the downloader reported, and
/// <see cref="LayerStore"/> publishes a streamed layer only through <see cref="LayerStore.FinishAsync"/>, with a
/// fallback to the verified blob whenever streaming did not work out.
/// </summary>
public sealed class StreamingUnpackTests : IDisposable
{
    private const string Gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    private readonly TempDir _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public async Task Tail_ReadsWhatTheWriterReports_AsItArrives()
    {
        var data = new byte[300_000];
        new Random(1).NextBytes(data);
        var path = Path.Combine(_tmp.Path, "ingest.partial");
        using var tail = new IngestTail(path);
        tail.Bind(CancellationToken.None);

        var writer = Task.Run(async () =>
        {
            await using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
            tail.Report(0);
            for (var off = 0; off < data.Length; off += 7_000)
            {
                var n = Math.Min(7_000, data.Length - off);
                await f.WriteAsync(data.AsMemory(off, n));
                tail.Report(off + n);
                await Task.Delay(1);
            }

            tail.Complete(data.Length);
        });

        var got = new MemoryStream();
        await tail.CopyToAsync(got);
        await writer;

        Assert.Equal(data, got.ToArray());
    }

    [Fact]
    public async Task Tail_ARestartOrAFailureOrACancel_MakesReadsThrow()
    {
        var path = Path.Combine(_tmp.Path, "ingest.partial");
        await System.IO.File.WriteAllBytesAsync(path, new byte[100]);
        var buf = new byte[10];

        using (var restarted = new IngestTail(path))
        {
            restarted.Bind(CancellationToken.None);
            restarted.Report(100);
            Assert.Equal(10, restarted.Read(buf));
            restarted.Report(0);
            Assert.Throws<IOException>(() => restarted.Read(buf));
        }

        using (var failed = new IngestTail(path))
        {
            failed.Bind(CancellationToken.None);
            failed.Report(50);
            var reader = Task.Run(() =>
            {
                var b = new byte[100];
                while (failed.Read(b) > 0)
                {
                }
            });
            failed.Fail(new InvalidOperationException("digest mismatch"));
            var ex = await Assert.ThrowsAsync<IOException>(() => reader);
            Assert.IsType<InvalidOperationException>(ex.InnerException);
        }

        using var cts = new CancellationTokenSource();
        using var cancelled = new IngestTail(path);
        cancelled.Bind(cts.Token);
        var waiting = Task.Run(() => cancelled.Read(buf)); // nothing reported yet: it waits
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Streamed_IsPublishedOnlyByFinish_WithItsDiffIdChecked()
    {
        var (tar, blob) = Layer("hello");
        var store = new LayerStore(_tmp.Path);
        var blobPath = Path.Combine(_tmp.Path, "blob");
        const string chain = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

        var tail = new IngestTail(blobPath);
        tail.Bind(CancellationToken.None);
        var pending = store.BeginUnpack(tail, Gzip, chain, CancellationToken.None);
        await WriteSlowlyAsync(blobPath, blob, tail);
        tail.Complete(blob.Length);
        await pending.Work; // extracted...
        Assert.False(store.Has(chain)); // ...but not visible before Finish

        await store.FinishAsync(pending, blobPath, Gzip, DiffId(tar), chain, CancellationToken.None);

        Assert.True(store.Has(chain));
        Assert.Equal("hello", await System.IO.File.ReadAllTextAsync(Path.Combine(store.PathOf(chain), "etc/motd")));
        Assert.Empty(Directory.EnumerateDirectories(store.Root, ".tmp-*"));
    }

    [Fact]
    public async Task Streamed_WhenTheDownloadStartedOver_FallsBackToTheVerifiedBlob()
    {
        var (tar, blob) = Layer("fallback");
        var store = new LayerStore(_tmp.Path);
        var blobPath = Path.Combine(_tmp.Path, "blob");
        const string chain = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

        var tail = new IngestTail(blobPath);
        tail.Bind(CancellationToken.None);
        var pending = store.BeginUnpack(tail, Gzip, chain, CancellationToken.None);
        await System.IO.File.WriteAllBytesAsync(blobPath, blob.AsMemory(0, 10).ToArray());
        tail.Report(10);
        tail.Report(0); // a registry that could not resume: the download begins again
        await System.IO.File.WriteAllBytesAsync(blobPath, blob);
        tail.Report(blob.Length);
        tail.Complete(blob.Length);
        await Assert.ThrowsAsync<IOException>(() => pending.Work);

        await store.FinishAsync(pending, blobPath, Gzip, DiffId(tar), chain, CancellationToken.None);

        Assert.Equal("fallback", await System.IO.File.ReadAllTextAsync(Path.Combine(store.PathOf(chain), "etc/motd")));
        Assert.Empty(Directory.EnumerateDirectories(store.Root, ".tmp-*"));
    }

    [Fact]
    public async Task Streamed_WithTheWrongDiffId_IsRefusedAndRemoved()
    {
        var (_, blob) = Layer("x");
        var store = new LayerStore(_tmp.Path);
        var blobPath = Path.Combine(_tmp.Path, "blob");
        const string chain = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

        var tail = new IngestTail(blobPath);
        tail.Bind(CancellationToken.None);
        var pending = store.BeginUnpack(tail, Gzip, chain, CancellationToken.None);
        await WriteSlowlyAsync(blobPath, blob, tail);
        tail.Complete(blob.Length);

        var ex = await Assert.ThrowsAsync<ContentException>(() =>
            store.FinishAsync(pending, blobPath, Gzip, "sha256:" + new string('0', 64), chain, CancellationToken.None));

        Assert.Equal(ContentError.DigestMismatch, ex.Error);
        Assert.False(store.Has(chain));
        Assert.Empty(Directory.EnumerateDirectories(store.Root, ".tmp-*"));
    }

    [Fact]
    public async Task Streamed_DownloadFailed_AbandonRemovesEverything()
    {
        var (_, blob) = Layer("gone");
        var store = new LayerStore(_tmp.Path);
        var blobPath = Path.Combine(_tmp.Path, "blob");
        const string chain = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

        var tail = new IngestTail(blobPath);
        tail.Bind(CancellationToken.None);
        var pending = store.BeginUnpack(tail, Gzip, chain, CancellationToken.None);
        await System.IO.File.WriteAllBytesAsync(blobPath, blob.AsMemory(0, blob.Length / 2).ToArray());
        tail.Report(blob.Length / 2);
        tail.Fail(new IOException("connection reset"));

        await store.AbandonAsync(pending);

        Assert.False(store.Has(chain));
        Assert.Empty(Directory.EnumerateDirectories(store.Root, ".tmp-*"));
    }

    [Fact]
    public async Task LayersDirectory_IsMarkedTopDir_OnExt4()
    {
        var store = new LayerStore(_tmp.Path);
        var (tar, blob) = Layer("t");
        var blobPath = Path.Combine(_tmp.Path, "blob");
        await System.IO.File.WriteAllBytesAsync(blobPath, blob);

        await store.UnpackAsync(blobPath, Gzip, DiffId(tar), "sha256:5555555555555555555555555555555555555555555555555555555555555555", CancellationToken.None);

        if (Sys.StatfsType(store.Root) != 0xEF53)
        {
            return; // FS_TOPDIR_FL is an ext2/3/4 hint; elsewhere it is best effort
        }

        var fd = Sys.Open(store.Root, OpenFlags.RdOnly | OpenFlags.Directory);
        try
        {
            Assert.NotEqual(0, FsAt.GetInodeFlags(fd)!.Value & 0x00020000);
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    private static async Task WriteSlowlyAsync(string path, byte[] blob, IngestTail tail)
    {
        await using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        tail.Report(0);
        for (var off = 0; off < blob.Length; off += 64)
        {
            var n = Math.Min(64, blob.Length - off);
            await f.WriteAsync(blob.AsMemory(off, n));
            tail.Report(off + n);
        }
    }

    private static (byte[] Tar, byte[] Blob) Layer(string motd)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, leaveOpen: true))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "etc") { Mode = (UnixFileMode)0x1ED });
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "etc/motd") { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(Encoding.UTF8.GetBytes(motd)) });
            for (var i = 0; i < 20; i++)
            {
                w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"usr/share/f{i}") { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(RandomNumberGenerator.GetBytes(3000)) });
            }
        }

        var tar = ms.ToArray();
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(tar);
        }

        return (tar, gz.ToArray());
    }

    private static string DiffId(byte[] tar) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar));
}
