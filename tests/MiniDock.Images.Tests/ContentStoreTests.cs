using System.Security.Cryptography;
using System.Text;
using MiniDock.Images.Content;

namespace MiniDock.Images.Tests;

public sealed class ContentStoreTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly ContentStore _store;

    public ContentStoreTests() => _store = new ContentStore(_dir.Path);

    public void Dispose() => _dir.Dispose();

    private static (byte[] Bytes, string Digest) Blob(int size, int seed = 1)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return (bytes, Digest.Compute(bytes));
    }

    private string[] IngestFiles() => Directory.GetFiles(Path.Combine(_dir.Path, "ingest")).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task Commit_verified_blob_becomes_visible_and_ingest_is_gone()
    {
        var (bytes, digest) = Blob(100_000);
        await File.WriteAllBytesAsync(_store.IngestPath(digest), bytes);

        await _store.CommitAsync(digest, bytes.Length, CancellationToken.None);

        Assert.True(_store.Has(digest));
        Assert.Equal(bytes.Length, _store.Size(digest));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
        Assert.Equal(Path.Combine(_dir.Path, "blobs", "sha256", digest[7..]), _store.BlobPath(digest));
        Assert.Empty(IngestFiles());
        Assert.Equal([digest], _store.List());
    }

    [Fact]
    public async Task Commit_with_one_wrong_byte_throws_and_leaves_no_blob_and_no_ingest()
    {
        var (bytes, digest) = Blob(4096);
        bytes[1234] ^= 0x01;
        await File.WriteAllBytesAsync(_store.IngestPath(digest), bytes);

        var ex = await Assert.ThrowsAsync<ContentException>(() => _store.CommitAsync(digest, bytes.Length, CancellationToken.None));

        Assert.Equal(ContentError.DigestMismatch, ex.Error);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.False(_store.Has(digest));
        Assert.False(File.Exists(_store.BlobPath(digest)));
        Assert.Empty(IngestFiles());
        Assert.Empty(_store.List());
    }

    [Fact]
    public async Task Commit_of_too_long_file_is_size_mismatch_and_deletes_it()
    {
        var (bytes, digest) = Blob(1000);
        await File.WriteAllBytesAsync(_store.IngestPath(digest), [.. bytes, 0]);

        var ex = await Assert.ThrowsAsync<ContentException>(() => _store.CommitAsync(digest, bytes.Length, CancellationToken.None));

        Assert.Equal(ContentError.SizeMismatch, ex.Error);
        Assert.False(_store.Has(digest));
        Assert.Empty(IngestFiles());
    }

    [Fact]
    public async Task Commit_of_short_file_is_incomplete_and_keeps_it_for_resume()
    {
        var (bytes, digest) = Blob(1000);
        await File.WriteAllBytesAsync(_store.IngestPath(digest), bytes[..400]);

        var ex = await Assert.ThrowsAsync<ContentException>(() => _store.CommitAsync(digest, bytes.Length, CancellationToken.None));

        Assert.Equal(ContentError.Incomplete, ex.Error);
        Assert.Equal(400, _store.IngestedLength(digest));
        Assert.False(_store.Has(digest));
    }

    [Fact]
    public async Task Commit_without_ingest_is_not_found()
    {
        var (_, digest) = Blob(10);
        var ex = await Assert.ThrowsAsync<ContentException>(() => _store.CommitAsync(digest, 10, CancellationToken.None));
        Assert.Equal(ContentError.NotFound, ex.Error);
    }

    [Fact]
    public async Task Resume_half_then_rest_then_commit()
    {
        var (bytes, digest) = Blob(300_001, seed: 7);
        var path = _store.IngestPath(digest);
        Assert.Equal(path, _store.IngestPath(digest)); // stable per digest

        // First "process" writes half and is killed.
        await using (var fs = new FileStream(path, FileMode.Append, FileAccess.Write))
        {
            await fs.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
        }

        Assert.False(_store.Has(digest));
        var offset = _store.IngestedLength(digest);
        Assert.Equal(bytes.Length / 2, offset);

        // The resumed pull appends from the offset (what an HTTP Range request would return).
        using (await _store.LockIngestAsync(digest, CancellationToken.None))
        {
            await using var fs = new FileStream(path, FileMode.Append, FileAccess.Write);
            await fs.WriteAsync(bytes.AsMemory((int)offset));
        }

        await _store.CommitAsync(digest, bytes.Length, CancellationToken.None);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
    }

    [Fact]
    public async Task Concurrent_commits_and_writes_of_one_digest_give_one_correct_blob()
    {
        var (bytes, digest) = Blob(256 * 1024, seed: 3);
        await File.WriteAllBytesAsync(_store.IngestPath(digest), bytes);
        using var start = new ManualResetEventSlim();

        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            start.Wait();
            if (i % 2 == 0)
            {
                await _store.CommitAsync(digest, bytes.Length, CancellationToken.None);
            }
            else
            {
                Assert.Equal(digest, await _store.WriteAsync(bytes, digest, CancellationToken.None));
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(tasks);

        Assert.Equal([digest], _store.List());
        Assert.Equal(digest, Digest.Compute(await File.ReadAllBytesAsync(_store.BlobPath(digest))));
        Assert.Empty(IngestFiles());
    }

    [Fact]
    public async Task Concurrent_second_store_instance_sees_same_blob()
    {
        var other = new ContentStore(_dir.Path);
        var (bytes, digest) = Blob(5000, seed: 9);
        await Task.WhenAll(
            Task.Run(() => _store.WriteAsync(bytes, null, CancellationToken.None)),
            Task.Run(() => other.WriteAsync(bytes, digest, CancellationToken.None)));
        Assert.True(other.Has(digest));
        Assert.Single(_store.List());
    }

    [Fact]
    public async Task WriteAsync_verifies_expected_digest()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"schemaVersion\":2}");
        var wrong = "sha256:" + new string('0', 64);

        var ex = await Assert.ThrowsAsync<ContentException>(() => _store.WriteAsync(bytes, wrong, CancellationToken.None));
        Assert.Equal(ContentError.DigestMismatch, ex.Error);
        Assert.Empty(_store.List());

        var digest = await _store.WriteAsync(bytes, null, CancellationToken.None);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), digest);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(_store.BlobPath(digest)));
        Assert.Empty(IngestFiles());
    }

    [Theory]
    [InlineData("sha256:../../x")]
    [InlineData("sha256:../../../../etc/passwd0000000000000000000000000000000000000000000")]
    [InlineData("sha256:2D711642B726B04401627CA9FBAC32F5C8530FB1903CC4DB02258717921A4881")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha512:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")]
    [InlineData("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")]
    [InlineData("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a488")]
    [InlineData("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a48811")]
    [InlineData("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a488/")]
    [InlineData("")]
    public async Task Invalid_digests_are_rejected_everywhere(string bad)
    {
        Assert.False(Digest.IsValid(bad));
        void Check(Action a) => Assert.Equal(ContentError.InvalidDigest, Assert.Throws<ContentException>(a).Error);
        Check(() => _store.IngestPath(bad));
        Check(() => _store.BlobPath(bad));
        Check(() => _store.Has(bad));
        Check(() => _store.Size(bad));
        Check(() => _store.Delete(bad));
        Assert.Equal(ContentError.InvalidDigest, (await Assert.ThrowsAsync<ContentException>(() => _store.CommitAsync(bad, 1, CancellationToken.None))).Error);
        Assert.Equal(ContentError.InvalidDigest, (await Assert.ThrowsAsync<ContentException>(() => _store.WriteAsync(new byte[] { 1 }, bad, CancellationToken.None))).Error);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "..", "x")));
    }

    [Fact]
    public void Valid_digest_is_accepted()
    {
        // printf x | sha256sum
        Assert.True(Digest.IsValid("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"));
        Assert.Equal("sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", Digest.Compute("x"u8));
    }

    [Fact]
    public async Task Delete_and_list()
    {
        var a = await _store.WriteAsync(new byte[] { 1 }, null, CancellationToken.None);
        var b = await _store.WriteAsync(new byte[] { 2 }, null, CancellationToken.None);
        File.WriteAllText(Path.Combine(_dir.Path, "blobs", "sha256", "junk"), "not a digest");

        Assert.Equal(new[] { a, b }.Order(), _store.List().Order());
        Assert.True(_store.Delete(a));
        Assert.False(_store.Delete(a));
        Assert.Equal([b], _store.List());
        Assert.Equal(ContentError.NotFound, Assert.Throws<ContentException>(() => _store.Size(a)).Error);
    }

    [Fact]
    public async Task CleanIngest_removes_only_old_files()
    {
        var (_, oldDigest) = Blob(10, 1);
        var (_, newDigest) = Blob(10, 2);
        await File.WriteAllTextAsync(_store.IngestPath(oldDigest), "old");
        await File.WriteAllTextAsync(_store.IngestPath(newDigest), "new");
        File.SetLastWriteTimeUtc(_store.IngestPath(oldDigest), DateTime.UtcNow.AddDays(-2));

        _store.CleanIngest(TimeSpan.FromDays(1));

        Assert.False(File.Exists(_store.IngestPath(oldDigest)));
        Assert.True(File.Exists(_store.IngestPath(newDigest)));
    }

    [Fact]
    public async Task Ingest_lock_is_exclusive_and_cancellable()
    {
        var (_, digest) = Blob(10);
        using (await _store.LockIngestAsync(digest, CancellationToken.None))
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.LockIngestAsync(digest, cts.Token));
        }

        using (await _store.LockIngestAsync(digest, CancellationToken.None))
        {
        }
    }
}
