using System.Text;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;

namespace MiniDock.Images.Tests;

public sealed class ImageDbTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string D(string seed) => Digest.Compute(Encoding.UTF8.GetBytes(seed));

    private static ImageRecord Image(string config, string manifest, string? index = null, string? created = "2024-01-02T03:04:05Z") => new()
    {
        Id = D(config),
        ManifestDigest = D(manifest),
        ManifestMediaType = "application/vnd.oci.image.manifest.v1+json",
        IndexDigest = index is null ? null : D(index),
        Created = created,
        Size = 1234,
        Os = "linux",
        Architecture = "amd64",
    };

    private static LayerRecord[] Layers(params string[] names) => names.Select(n => new LayerRecord
    {
        Digest = D("blob-" + n),
        MediaType = "application/vnd.oci.image.layer.v1.tar+gzip",
        Size = 100,
        DiffId = D("diff-" + n),
    }).ToArray();

    [Fact]
    public void Round_trip()
    {
        using (var db = new ImageDb(_dir.Path))
        {
            db.RecordPull(Image("c1", "m1", "i1"), Layers("a", "b"), "docker.io/library/alpine:latest");
        }

        Assert.True(File.Exists(Path.Combine(_dir.Path, "minidock.db")));
        using var db2 = new ImageDb(_dir.Path);
        var img = Assert.Single(db2.Images());
        Assert.Equal(D("c1"), img.Id);
        Assert.Equal(D("m1"), img.ManifestDigest);
        Assert.Equal(D("i1"), img.IndexDigest);
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", img.ManifestMediaType);
        Assert.Equal("2024-01-02T03:04:05Z", img.Created);
        Assert.Equal(1234, img.Size);
        Assert.Equal(("linux", "amd64", (string?)null), (img.Os, img.Architecture, img.Variant));
        Assert.Equal([("docker.io/library/alpine:latest", D("c1"))], db2.Tags());
        Assert.Equal(["docker.io/library/alpine:latest"], db2.TagsOf(D("c1")));

        var layers = db2.Layers(D("c1"));
        Assert.Equal(2, layers.Count);
        Assert.Equal([0, 1], layers.Select(l => l.Position));
        Assert.Equal(D("blob-a"), layers[0].Digest);
        Assert.Equal(D("diff-b"), layers[1].DiffId);
        Assert.Equal(ChainId.Compute([D("diff-a"), D("diff-b")]), layers.Select(l => l.ChainId));
        Assert.All(layers, l => Assert.Equal(D("c1"), l.ImageId));

        Assert.Equal("wal", db2.ExecuteScalarForTest("PRAGMA journal_mode"));
    }

    [Fact]
    public void Repull_moves_tag_and_replaces_layers()
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("c1", "m1"), Layers("a"), "r/x:latest");
        db.RecordPull(Image("c1", "m1"), Layers("a", "b"), "r/x:latest"); // same image again, tagged
        Assert.Equal(2, db.Layers(D("c1")).Count);

        db.RecordPull(Image("c2", "m2"), Layers("a", "c"), "r/x:latest");
        Assert.Equal([("r/x:latest", D("c2"))], db.Tags());
        Assert.Equal([D("c1")], db.DanglingImages());
        Assert.Equal(2, db.Images().Count);
    }

    [Theory]
    [InlineData("image")]
    [InlineData("tag")]
    [InlineData("layer")]
    public void RecordPull_is_atomic(string failAt)
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("old", "m-old"), Layers("a"), "r/x:latest");

        var layerCount = 0;
        db.FaultPoint = p =>
        {
            if (p == failAt && (p != "layer" || ++layerCount == 2))
            {
                throw new IOException("simulated crash at " + p);
            }
        };
        Assert.Throws<IOException>(() => db.RecordPull(Image("new", "m-new"), Layers("a", "b", "c"), "r/x:latest"));
        db.FaultPoint = null;

        // Nothing of the failed pull is visible, from this connection or from another "process".
        using var other = new ImageDb(_dir.Path);
        foreach (var view in new[] { db, other })
        {
            Assert.Equal([D("old")], view.Images().Select(i => i.Id));
            Assert.Equal([("r/x:latest", D("old"))], view.Tags());
            Assert.Empty(view.Layers(D("new")));
            Assert.Null(view.Find(D("new")));
            Assert.False(view.IsBlobReferenced(D("blob-b")));
        }

        // And the connection is still usable.
        db.RecordPull(Image("new", "m-new"), Layers("a", "b"), "r/x:latest");
        Assert.Equal(D("new"), db.Find("r/x:latest")!.Id);
    }

    [Fact]
    public void RemoveImage_returns_only_blobs_unique_to_it()
    {
        using var db = new ImageDb(_dir.Path);
        // Two platform images from one index sharing base layer "base".
        db.RecordPull(Image("c-amd64", "m-amd64", "idx"), Layers("base", "app-amd64"), "r/app:1");
        db.RecordPull(Image("c-arm64", "m-arm64", "idx"), Layers("base", "app-arm64"), null);

        var freed = db.RemoveImage(D("c-amd64"));

        Assert.Equal(
            new[] { D("c-amd64"), D("m-amd64"), D("blob-app-amd64") }.Order(),
            freed.Order());
        Assert.True(db.IsBlobReferenced(D("blob-base")));
        Assert.True(db.IsBlobReferenced(D("idx")));
        Assert.False(db.IsBlobReferenced(D("blob-app-amd64")));
        Assert.Empty(db.Tags());
        Assert.Empty(db.Layers(D("c-amd64")));
        Assert.Empty(db.RemoveImage(D("c-amd64"))); // already gone

        var last = db.RemoveImage(D("c-arm64"));
        Assert.Equal(new[] { D("c-arm64"), D("m-arm64"), D("idx"), D("blob-base"), D("blob-app-arm64") }.Order(), last.Order());
        Assert.Empty(db.Images());
    }

    [Fact]
    public void Untag_and_dangling()
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("c1", "m1"), Layers("a"), "r/a:1");
        db.RecordPull(Image("c1", "m1"), Layers("a"), "r/a:2");
        Assert.Equal(2, db.Tags().Count);
        Assert.Empty(db.DanglingImages());

        Assert.True(db.Untag("r/a:1"));
        Assert.False(db.Untag("r/a:1"));
        Assert.Empty(db.DanglingImages());
        Assert.True(db.Untag("r/a:2"));
        Assert.Equal([D("c1")], db.DanglingImages());
        Assert.NotNull(db.Find(D("c1")));
    }

    [Fact]
    public void Find_by_tag_id_prefix_and_manifest_digest()
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("c1", "m1", "i1"), Layers("a"), "docker.io/library/alpine:latest");
        var id = D("c1");
        var hex = id[7..];

        Assert.Equal(id, db.Find("docker.io/library/alpine:latest")!.Id);
        Assert.Equal(id, db.Find(id)!.Id);
        Assert.Equal(id, db.Find(hex[..12])!.Id);
        Assert.Equal(id, db.Find("sha256:" + hex[..4])!.Id);
        Assert.Equal(id, db.Find(D("m1"))!.Id);
        Assert.Equal(id, db.Find("docker.io/library/alpine@" + D("m1"))!.Id);
        Assert.Equal(id, db.Find("docker.io/library/alpine@" + D("i1"))!.Id);
        Assert.Equal(id, db.Find(hex)!.Id); // the full ID without "sha256:", as Docker accepts
        Assert.Null(db.Find(hex[..3])); // too short to be an ID
        Assert.Null(db.Find(hex[..12].ToUpperInvariant()));
        Assert.Null(db.Find("docker.io/library/busybox:latest"));
        Assert.Null(db.Find(D("nope")));
        Assert.Null(db.Find(""));
    }

    [Fact]
    public void Ambiguous_short_id_fails_clearly()
    {
        using var db = new ImageDb(_dir.Path);
        // Find two configs whose IDs share a 4-hex prefix.
        var seen = new Dictionary<string, string>();
        string a = "", b = "";
        for (var i = 0; ; i++)
        {
            var seed = "cfg" + i;
            var p = D(seed)[7..11];
            if (seen.TryGetValue(p, out var first))
            {
                (a, b) = (first, seed);
                break;
            }

            seen[p] = seed;
        }

        db.RecordPull(Image(a, "ma"), Layers("x"), null);
        db.RecordPull(Image(b, "mb"), Layers("y"), null);
        var prefix = D(a)[7..11];

        var ex = Assert.Throws<AmbiguousImageReferenceException>(() => db.Find(prefix));
        Assert.Contains("ambiguous", ex.Message);
        Assert.Contains(D(a), ex.Candidates);
        Assert.Contains(D(b), ex.Candidates);

        // A longer prefix disambiguates.
        Assert.Equal(D(a), db.Find(D(a)[7..30])!.Id);
    }

    [Fact]
    public void ChainId_matches_hand_computed_vector()
    {
        // diffA = sha256("layer-a"), diffB = sha256("layer-b"); by hand:
        //   printf '%s' "sha256:589f…6de3 sha256:55fe…0f0d" | sha256sum
        //   -> 267c5fd16af60e52927fabf0a36a31f3b5a2069347f7f00c7bd7f93f6ebc01f4
        const string diffA = "sha256:589f0d58b9053a4ff7329b8fdb4f9dd120e29354c086ad0b3b10733f6cfd6de3";
        const string diffB = "sha256:55fea2a37a9fc5963f1beccd0d162b856e6bd05ca07cdd3726847846ab740f0d";
        Assert.Equal(diffA, D("layer-a"));
        Assert.Equal(diffB, D("layer-b"));

        var chain = ChainId.Compute([diffA, diffB]);

        Assert.Equal(diffA, chain[0]); // ChainID(1) = DiffID(1)
        Assert.Equal("sha256:267c5fd16af60e52927fabf0a36a31f3b5a2069347f7f00c7bd7f93f6ebc01f4", chain[1]);
        Assert.Empty(ChainId.Compute([]));
        Assert.Throws<ContentException>(() => ChainId.Compute(["sha256:BAD"]));
    }

    [Fact]
    public async Task Two_instances_interleave_writes_without_locking_errors()
    {
        using var db1 = new ImageDb(_dir.Path);
        using var db2 = new ImageDb(_dir.Path);
        const int perWriter = 60;

        async Task Writer(ImageDb db, string name)
        {
            await Task.Yield();
            for (var i = 0; i < perWriter; i++)
            {
                db.RecordPull(Image($"{name}-c{i}", $"{name}-m{i}"), Layers($"{name}-{i}", "shared"), $"r/{name}:{i % 7}");
                _ = db.Images(); // readers interleave too
                _ = db.Find($"r/{name}:{i % 7}");
                if (i % 5 == 0)
                {
                    db.Untag($"r/{name}:{i % 7}");
                }
            }
        }

        await Task.WhenAll(Task.Run(() => Writer(db1, "one")), Task.Run(() => Writer(db2, "two")));

        Assert.Equal(2 * perWriter, db1.Images().Count);
        Assert.Equal(2 * perWriter, db2.Images().Count);
        Assert.Equal(db1.Tags(), db2.Tags());
        Assert.True(db2.IsBlobReferenced(D("blob-shared")));
    }
}
