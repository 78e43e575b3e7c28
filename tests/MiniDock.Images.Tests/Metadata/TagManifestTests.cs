using System.Text;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;
using SQLite;

namespace MiniDock.Images.Tests.Metadata;

/// <summary>
/// One image can arrive under two manifests (an OCI and a Docker one for the same config): each tag
/// remembers its own, so removing tags and the image releases every manifest blob, none twice.
/// </summary>
public sealed class TagManifestTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string D(string seed) => Digest.Compute(Encoding.UTF8.GetBytes(seed));

    private static ImageRecord Image(string manifest) => new()
    {
        Id = D("config"),
        ManifestDigest = D(manifest),
        ManifestMediaType = "application/vnd.oci.image.manifest.v1+json",
        Size = 1,
        Os = "linux",
        Architecture = "amd64",
    };

    private static LayerRecord[] Layers() =>
    [
        new LayerRecord { Digest = D("layer"), MediaType = "application/vnd.oci.image.layer.v1.tar+gzip", Size = 1, DiffId = D("diff") },
    ];

    [Fact]
    public void Untagging_releases_the_tags_own_manifest_only_when_nothing_else_uses_it()
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("oci-manifest"), Layers(), "127.0.0.1:5000/busybox:oci");
        db.RecordPull(Image("docker-manifest"), Layers(), "127.0.0.1:5000/busybox:v2s2");

        Assert.True(db.IsBlobReferenced(D("oci-manifest")));
        Assert.True(db.Untag("127.0.0.1:5000/busybox:oci", out var released));
        Assert.Equal(D("oci-manifest"), released);
        Assert.False(db.IsBlobReferenced(D("oci-manifest")));

        // The image's current manifest stays referenced by the image row itself.
        Assert.True(db.Untag("127.0.0.1:5000/busybox:v2s2", out var stillUsed));
        Assert.Null(stillUsed);
    }

    [Fact]
    public void Removing_the_image_returns_the_manifests_of_all_its_tags()
    {
        using var db = new ImageDb(_dir.Path);
        db.RecordPull(Image("oci-manifest"), Layers(), "127.0.0.1:5000/busybox:oci");
        db.RecordPull(Image("docker-manifest"), Layers(), "127.0.0.1:5000/busybox:v2s2");

        var freed = db.RemoveImage(D("config"));

        Assert.Contains(D("oci-manifest"), freed);
        Assert.Contains(D("docker-manifest"), freed);
        Assert.Contains(D("layer"), freed);
        Assert.Contains(D("config"), freed);
    }

    [Fact]
    public void A_version_1_database_gains_the_column_and_keeps_its_rows()
    {
        var path = Path.Combine(_dir.Path, "minidock.db");
        using (var old = new SQLiteConnection(path))
        {
            old.Execute("CREATE TABLE images(id TEXT PRIMARY KEY NOT NULL, manifest_digest TEXT NOT NULL, manifest_media_type TEXT NOT NULL, index_digest TEXT, created TEXT, size INTEGER NOT NULL, os TEXT NOT NULL, architecture TEXT NOT NULL, variant TEXT)");
            old.Execute("CREATE TABLE tags(tag TEXT PRIMARY KEY NOT NULL, image_id TEXT NOT NULL REFERENCES images(id))");
            old.Execute("INSERT INTO images VALUES(?, ?, 'x', NULL, NULL, 1, 'linux', 'amd64', NULL)", D("config"), D("m"));
            old.Execute("INSERT INTO tags VALUES('127.0.0.1:5000/old:latest', ?)", D("config"));
            old.Execute("PRAGMA user_version = 1");
        }

        using var db = new ImageDb(_dir.Path);
        Assert.Equal([("127.0.0.1:5000/old:latest", D("config"))], db.Tags());
        Assert.True(db.Untag("127.0.0.1:5000/old:latest", out var released));
        Assert.Null(released); // v1 rows don't know their manifest; the image row still holds it
    }
}
