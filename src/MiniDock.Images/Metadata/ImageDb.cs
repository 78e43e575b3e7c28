using MiniDock.Images.Content;
using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// The image metadata database, <c>&lt;dataRoot&gt;/minidock.db</c> (SQLite through sqlite-net-pcl).
/// </summary>
/// <remarks>
/// <para>Concurrency: two MiniDock processes may have it open at once. WAL journal mode lets readers run while one
/// writer writes; every write runs in <c>BEGIN IMMEDIATE</c>, which takes the write lock up front and waits for it
/// through the busy timeout. A deferred transaction that reads first and then writes could instead fail at once
/// with SQLITE_BUSY (the busy handler is not used for that upgrade in WAL mode), which is the classic
/// "database is locked" error. Within one process the connection is serialised by a lock.</para>
/// <para>AOT: only sqlite-net APIs whose mapped type is static are used (<c>Query&lt;T&gt;</c>,
/// <c>Insert(obj, typeof(T))</c>); <c>Insert(object)</c> reflects over the runtime type and raises IL2026.
/// The schema is plain SQL (not <c>CreateTable&lt;T&gt;</c>) so it can carry a composite key, foreign keys and indexes.</para>
/// </remarks>
public sealed class ImageDb : IDisposable
{
    /// <summary>Schema version stored in <c>PRAGMA user_version</c>.</summary>
    public const int SchemaVersion = 2;

    /// <summary>Shortest ID prefix accepted, so a stray short word is never taken as an ID.</summary>
    public const int MinIdPrefix = 4;

    private static readonly string[] Schema =
    [
        """
        CREATE TABLE IF NOT EXISTS images(
            id TEXT PRIMARY KEY NOT NULL,
            manifest_digest TEXT NOT NULL,
            manifest_media_type TEXT NOT NULL,
            index_digest TEXT,
            created TEXT,
            size INTEGER NOT NULL,
            os TEXT NOT NULL,
            architecture TEXT NOT NULL,
            variant TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS images_manifest ON images(manifest_digest)",
        "CREATE INDEX IF NOT EXISTS images_index ON images(index_digest)",
        """
        CREATE TABLE IF NOT EXISTS tags(
            tag TEXT PRIMARY KEY NOT NULL,
            image_id TEXT NOT NULL REFERENCES images(id),
            manifest_digest TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS tags_image ON tags(image_id)",
        """
        CREATE TABLE IF NOT EXISTS layers(
            image_id TEXT NOT NULL REFERENCES images(id),
            position INTEGER NOT NULL,
            digest TEXT NOT NULL,
            media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            diff_id TEXT NOT NULL,
            chain_id TEXT NOT NULL,
            PRIMARY KEY(image_id, position)) WITHOUT ROWID
        """,
        "CREATE INDEX IF NOT EXISTS layers_digest ON layers(digest)",
        "CREATE INDEX IF NOT EXISTS layers_chain ON layers(chain_id)",
    ];

    private readonly SQLiteConnection _db;
    private readonly Lock _gate = new();

    /// <summary>Opens (creating if needed) <c>&lt;dataRoot&gt;/minidock.db</c>.</summary>
    /// <param name="dataRoot">MiniDock's data root.</param>
    /// <param name="busyTimeout">How long a writer waits for another process's write lock; default 10 s.</param>
    public ImageDb(string dataRoot, TimeSpan? busyTimeout = null)
    {
        Directory.CreateDirectory(dataRoot);
        DatabasePath = Path.Combine(Path.GetFullPath(dataRoot), "minidock.db");
        _db = new SQLiteConnection(new SQLiteConnectionString(
            DatabasePath,
            SQLiteOpenFlags.ReadWrite | SQLiteOpenFlags.Create | SQLiteOpenFlags.FullMutex,
            storeDateTimeAsTicks: true));
        try
        {
            // Set before anything else so even the WAL switch and schema creation wait for a concurrent opener.
            _db.BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(10);

            // WAL is a property of the file: only a database not yet at this schema pays for the switch and the
            // migration (a write transaction), so `run` on a set-up host opens it read-only-fast.
            if (_db.ExecuteScalar<long>("PRAGMA user_version") != SchemaVersion)
            {
                var mode = MiniDock.Images.Metadata.Sqlite.WalSwitch(_db);
                if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"{DatabasePath}: cannot enable WAL journal mode (got {mode})");
                }

                Migrate();
            }

            // NORMAL is durable against application crashes in WAL mode and avoids an fsync per commit.
            _db.Execute("PRAGMA synchronous=NORMAL");
            _db.Execute("PRAGMA foreign_keys=ON");
        }
        catch
        {
            _db.Dispose();
            throw;
        }
    }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Test seam: called at named points inside write transactions, so tests can fail one midway.</summary>
    internal Action<string>? FaultPoint { get; set; }

    /// <summary>
    /// Records one pulled image: its row, its layers (positions from list order, ChainIDs computed from the DiffIDs)
    /// and optionally a tag, all in ONE transaction. An existing row for the same ID is replaced, and an existing
    /// tag is moved to this image, atomically: another process sees the old state or the new, never a mix.
    /// </summary>
    public void RecordPull(ImageRecord image, IReadOnlyList<LayerRecord> layers, string? tag)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(layers);
        RequireDigest(image.Id, nameof(image.Id));
        RequireDigest(image.ManifestDigest, nameof(image.ManifestDigest));
        if (image.IndexDigest is not null)
        {
            RequireDigest(image.IndexDigest, nameof(image.IndexDigest));
        }

        if (tag is not null && string.IsNullOrWhiteSpace(tag))
        {
            throw new ArgumentException("tag must be null or non-empty", nameof(tag));
        }

        var chain = ChainId.Compute(layers.Select(l => l.DiffId).ToArray());
        var rows = new LayerRecord[layers.Count];
        for (var i = 0; i < layers.Count; i++)
        {
            RequireDigest(layers[i].Digest, "layer digest");
            rows[i] = new LayerRecord
            {
                ImageId = image.Id,
                Position = i,
                Digest = layers[i].Digest,
                MediaType = layers[i].MediaType,
                Size = layers[i].Size,
                DiffId = layers[i].DiffId,
                ChainId = chain[i],
            };
        }

        Write(() =>
        {
            _db.Execute("DELETE FROM layers WHERE image_id = ?", image.Id);
            _db.InsertOrReplace(image, typeof(ImageRecord));
            FaultPoint?.Invoke("image");
            if (tag is not null)
            {
                _db.InsertOrReplace(new TagRecord { Tag = tag, ImageId = image.Id, ManifestDigest = image.ManifestDigest }, typeof(TagRecord));
            }

            FaultPoint?.Invoke("tag");
            foreach (var row in rows)
            {
                _db.Insert(row, typeof(LayerRecord));
                FaultPoint?.Invoke("layer");
            }

            return 0;
        });
    }

    /// <summary>All images, newest first (by the config's created time, then ID).</summary>
    public IReadOnlyList<ImageRecord> Images()
    {
        lock (_gate)
        {
            return _db.Query<ImageRecord>("SELECT * FROM images ORDER BY created DESC, id");
        }
    }

    /// <summary>All tags, sorted.</summary>
    public IReadOnlyList<(string Tag, string ImageId)> Tags()
    {
        lock (_gate)
        {
            return _db.Query<TagRecord>("SELECT * FROM tags ORDER BY tag").Select(t => (t.Tag, t.ImageId)).ToArray();
        }
    }

    /// <summary>Tags pointing at one image, sorted.</summary>
    public IReadOnlyList<string> TagsOf(string imageId)
    {
        lock (_gate)
        {
            return _db.QueryScalars<string>("SELECT tag FROM tags WHERE image_id = ? ORDER BY tag", imageId);
        }
    }

    /// <summary>An image's layers, base first.</summary>
    public IReadOnlyList<LayerRecord> Layers(string imageId)
    {
        lock (_gate)
        {
            return _db.Query<LayerRecord>("SELECT * FROM layers WHERE image_id = ? ORDER BY position", imageId);
        }
    }

    /// <summary>
    /// Resolves what a user typed, in Docker's order: an exact tag (already normalised by the caller), then
    /// <c>name@sha256:…</c> or a bare full digest (image ID, then manifest digest, then index digest), then a unique
    /// ID prefix of at least <see cref="MinIdPrefix"/> lowercase hex characters, with or without <c>sha256:</c>
    /// (Docker's short IDs are the first 12). Returns null when nothing matches.
    /// </summary>
    /// <exception cref="AmbiguousImageReferenceException">A prefix or index digest matches several images.</exception>
    public ImageRecord? Find(string referenceOrIdPrefix)
    {
        ArgumentNullException.ThrowIfNull(referenceOrIdPrefix);
        var s = referenceOrIdPrefix.Trim();
        if (s.Length == 0)
        {
            return null;
        }

        lock (_gate)
        {
            var byTag = _db.Query<ImageRecord>(
                "SELECT images.* FROM tags JOIN images ON images.id = tags.image_id WHERE tags.tag = ?", s);
            if (byTag.Count > 0)
            {
                return byTag[0];
            }

            var at = s.LastIndexOf('@');
            if (at >= 0)
            {
                var digest = s[(at + 1)..];
                return Digest.IsValid(digest) ? ByDigest(s, digest, includeId: false) : null;
            }

            if (Digest.IsValid(s))
            {
                return ByDigest(s, s, includeId: true);
            }

            var prefix = s.StartsWith(Digest.Sha256Prefix, StringComparison.Ordinal) ? s[Digest.Sha256Prefix.Length..] : s;
            if (prefix.Length < MinIdPrefix || prefix.Length > 64 || !Digest.IsLowerHex(prefix))
            {
                return null;
            }

            // GLOB is case-sensitive and can use the primary-key index; the prefix is validated hex, so no metacharacters.
            var hits = _db.Query<ImageRecord>("SELECT * FROM images WHERE id GLOB ? ORDER BY id LIMIT 5", Digest.Sha256Prefix + prefix + "*");
            return hits.Count switch
            {
                0 => null,
                1 => hits[0],
                _ => throw new AmbiguousImageReferenceException(s, hits.Select(h => h.Id).ToArray()),
            };
        }
    }

    /// <summary>Removes a tag; false when it did not exist. The image stays (it may become dangling).</summary>
    public bool Untag(string tag) => Untag(tag, out _);

    /// <summary>Removes a tag; <paramref name="released"/> is the manifest blob it alone still referred to, if any.</summary>
    public bool Untag(string tag, out string? released)
    {
        string? freed = null;
        var removed = Write(() =>
        {
            var manifest = _db.QueryScalars<string>("SELECT manifest_digest FROM tags WHERE tag = ?", tag).FirstOrDefault();
            var n = _db.Execute("DELETE FROM tags WHERE tag = ?", tag);
            freed = n > 0 && manifest is not null && !IsReferencedCore(manifest) ? manifest : null;
            return n;
        }) > 0;
        released = freed;
        return removed;
    }

    /// <summary>
    /// Deletes an image with its tags and layer rows, in one transaction, and returns the blob digests (config,
    /// manifest, index, layers) that no remaining image references, so the caller may delete them from the content
    /// store. Returns an empty list when the image does not exist. Policy such as "refuse while tagged" or "in use by
    /// a container" is the caller's.
    /// </summary>
    /// <remarks>
    /// The blobs are deleted after this commits, outside the transaction; a pull that starts in between and needs one
    /// of them must re-check <see cref="IsBlobReferenced"/> (or the caller serialises pull and removal).
    /// </remarks>
    public IReadOnlyList<string> RemoveImage(string imageId)
    {
        ArgumentNullException.ThrowIfNull(imageId);
        return Write<IReadOnlyList<string>>(() =>
        {
            var image = _db.Query<ImageRecord>("SELECT * FROM images WHERE id = ?", imageId).FirstOrDefault();
            if (image is null)
            {
                return [];
            }

            var candidates = new List<string> { image.Id, image.ManifestDigest };
            if (image.IndexDigest is not null)
            {
                candidates.Add(image.IndexDigest);
            }

            candidates.AddRange(_db.QueryScalars<string>("SELECT digest FROM layers WHERE image_id = ? ORDER BY position", imageId));
            candidates.AddRange(_db.QueryScalars<string>("SELECT manifest_digest FROM tags WHERE image_id = ? AND manifest_digest IS NOT NULL", imageId));

            _db.Execute("DELETE FROM tags WHERE image_id = ?", imageId);
            _db.Execute("DELETE FROM layers WHERE image_id = ?", imageId);
            _db.Execute("DELETE FROM images WHERE id = ?", imageId);
            FaultPoint?.Invoke("remove");
            return candidates.Distinct(StringComparer.Ordinal).Where(d => !IsReferencedCore(d)).ToArray();
        });
    }

    /// <summary>True when any image's layer stack contains <paramref name="chainId"/> (its unpacked directory is in use).</summary>
    public bool IsChainReferenced(string chainId)
    {
        lock (_gate)
        {
            return _db.ExecuteScalar<long>("SELECT EXISTS(SELECT 1 FROM layers WHERE chain_id = ?)", chainId) != 0;
        }
    }

    /// <summary>True when any image uses <paramref name="digest"/> as its config, manifest, index or a layer.</summary>
    public bool IsBlobReferenced(string digest)
    {
        lock (_gate)
        {
            return IsReferencedCore(digest);
        }
    }

    /// <summary>IDs of images no tag points at (Docker's <c>&lt;none&gt;:&lt;none&gt;</c>).</summary>
    public IReadOnlyList<string> DanglingImages()
    {
        lock (_gate)
        {
            return _db.QueryScalars<string>(
                "SELECT id FROM images WHERE NOT EXISTS (SELECT 1 FROM tags WHERE tags.image_id = images.id) ORDER BY id");
        }
    }

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _db.Dispose();
        }
    }

    private bool IsReferencedCore(string digest) =>
        _db.ExecuteScalar<long>(
            """
            SELECT EXISTS(SELECT 1 FROM images WHERE id = ?1)
                OR EXISTS(SELECT 1 FROM images WHERE manifest_digest = ?1)
                OR EXISTS(SELECT 1 FROM images WHERE index_digest = ?1)
                OR EXISTS(SELECT 1 FROM layers WHERE digest = ?1)
                OR EXISTS(SELECT 1 FROM tags WHERE manifest_digest = ?1)
            """,
            digest) != 0;

    private ImageRecord? ByDigest(string reference, string digest, bool includeId)
    {
        if (includeId)
        {
            var byId = _db.Query<ImageRecord>("SELECT * FROM images WHERE id = ?", digest);
            if (byId.Count > 0)
            {
                return byId[0];
            }
        }

        var byManifest = _db.Query<ImageRecord>("SELECT * FROM images WHERE manifest_digest = ? ORDER BY id LIMIT 1", digest);
        if (byManifest.Count > 0)
        {
            return byManifest[0];
        }

        var byIndex = _db.Query<ImageRecord>("SELECT * FROM images WHERE index_digest = ? ORDER BY id LIMIT 5", digest);
        return byIndex.Count switch
        {
            0 => null,
            1 => byIndex[0],
            _ => throw new AmbiguousImageReferenceException(reference, byIndex.Select(h => h.Id).ToArray()),
        };
    }

    private void Migrate()
    {
        Write(() =>
        {
            var version = _db.ExecuteScalar<long>("PRAGMA user_version");
            if (version > SchemaVersion)
            {
                throw new InvalidOperationException(
                    $"{DatabasePath}: schema version {version} is newer than this MiniDock understands ({SchemaVersion})");
            }

            foreach (var sql in Schema)
            {
                _db.Execute(sql);
            }

            // v2: each tag remembers the manifest it was pulled as (one image can arrive under an OCI
            // and a Docker manifest), so removing the tag can release exactly that manifest blob.
            if (version == 1)
            {
                _db.Execute("ALTER TABLE tags ADD COLUMN manifest_digest TEXT");
            }

            if (version < SchemaVersion)
            {
                _db.Execute($"PRAGMA user_version = {SchemaVersion}");
            }

            return 0;
        });
    }

    // BEGIN IMMEDIATE: see the class remarks. Rollback on any exception, including a FaultPoint's.
    private T Write<T>(Func<T> body) => MiniDock.Images.Metadata.Sqlite.WriteImmediate(_db, _gate, body);

    private static void RequireDigest(string? digest, string what)
    {
        if (!Digest.IsValid(digest))
        {
            throw new ArgumentException($"{what}: invalid digest \"{digest}\"");
        }
    }
}
