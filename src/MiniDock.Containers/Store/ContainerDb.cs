using SQLite;

namespace MiniDock.Containers.Store;

/// <summary>
/// The container database, <c>&lt;dataRoot&gt;/containers.db</c> (SQLite through sqlite-net-pcl), kept apart from the
/// image database so that the image layer knows nothing of containers.
/// </summary>
/// <remarks>
/// Two MiniDock commands may run at once (a monitor records an exit while the user runs <c>ps</c> or <c>rm</c>):
/// WAL lets readers go on during a write, and every change is one <c>BEGIN IMMEDIATE</c> transaction that re-reads
/// the row it changes, so two writers never lose each other's update. Name uniqueness is the database's own
/// UNIQUE constraint, so two <c>run --name x</c> at once cannot both win.
/// </remarks>
public sealed partial class ContainerDb : IDisposable
{
    private const int SchemaVersion = 2;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS containers(
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            image TEXT NOT NULL,
            image_id TEXT NOT NULL,
            created INTEGER NOT NULL,
            options TEXT NOT NULL,
            resolved TEXT,
            state TEXT NOT NULL,
            pid INTEGER NOT NULL DEFAULT 0,
            pid_start INTEGER NOT NULL DEFAULT 0,
            monitor_pid INTEGER NOT NULL DEFAULT 0,
            monitor_start INTEGER NOT NULL DEFAULT 0,
            exit_code INTEGER NOT NULL DEFAULT 0,
            oom_killed INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            started_at INTEGER NOT NULL DEFAULT 0,
            finished_at INTEGER NOT NULL DEFAULT 0,
            restart_count INTEGER NOT NULL DEFAULT 0,
            stopped_by_user INTEGER NOT NULL DEFAULT 0,
            driver TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS networks(
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            driver TEXT NOT NULL,
            subnet TEXT NOT NULL,
            gateway TEXT NOT NULL,
            bridge TEXT NOT NULL,
            created INTEGER NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}',
            internal INTEGER NOT NULL DEFAULT 0,
            builtin INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS endpoints(
            network_id TEXT NOT NULL,
            container_id TEXT NOT NULL,
            container_name TEXT NOT NULL,
            address TEXT NOT NULL,
            mac TEXT NOT NULL,
            ports TEXT NOT NULL DEFAULT '[]',
            aliases TEXT NOT NULL DEFAULT '',
            PRIMARY KEY(network_id, container_id));
        INSERT OR IGNORE INTO networks(id, name, driver, subnet, gateway, bridge, created, builtin) VALUES
            (lower(hex(randomblob(32))), 'bridge', 'bridge', '10.77.0.0/16', '10.77.0.1', 'minidock0', strftime('%s','now') * 10000000 + 621355968000000000, 1),
            (lower(hex(randomblob(32))), 'host', 'host', '', '', '', strftime('%s','now') * 10000000 + 621355968000000000, 1),
            (lower(hex(randomblob(32))), 'none', 'null', '', '', '', strftime('%s','now') * 10000000 + 621355968000000000, 1);
        """;

    private readonly SQLiteConnection _db;
    private readonly Lock _gate = new();

    public ContainerDb(string dataRoot)
    {
        Directory.CreateDirectory(dataRoot);
        var path = Path.Combine(Path.GetFullPath(dataRoot), "containers.db");
        _db = new SQLiteConnection(new SQLiteConnectionString(path, SQLiteOpenFlags.ReadWrite | SQLiteOpenFlags.Create | SQLiteOpenFlags.FullMutex, storeDateTimeAsTicks: true));
        try
        {
            _db.BusyTimeout = TimeSpan.FromSeconds(10);
            var version = _db.ExecuteScalar<long>("PRAGMA user_version");
            if (version > SchemaVersion)
            {
                throw new InvalidOperationException($"{path}: schema version {version} is newer than this MiniDock understands ({SchemaVersion})");
            }

            if (version < SchemaVersion)
            {
                // Only the first open of a new file pays for the WAL switch and the schema.
                MiniDock.Images.Metadata.Sqlite.WalSwitch(_db);
                Write(() =>
                {
                    // sqlite-net prepares one statement per Execute.
                    foreach (var statement in Schema.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        _db.Execute(statement);
                    }

                    _db.Execute($"PRAGMA user_version = {SchemaVersion}");
                    return 0;
                });
            }

            _db.Execute("PRAGMA synchronous=NORMAL");
        }
        catch
        {
            _db.Dispose();
            throw;
        }
    }

    /// <summary>Adds a new container; a taken name is Docker's conflict error.</summary>
    public void Insert(ContainerRow row)
    {
        Write(() =>
        {
            var holder = _db.QueryScalars<string>("SELECT id FROM containers WHERE name = ?", row.Name).FirstOrDefault();
            if (holder is not null)
            {
                throw new Config.ContainerException(
                    $"Conflict. The container name \"/{row.Name}\" is already in use by container \"{holder}\". You have to remove (or rename) that container to be able to reuse that name.");
            }

            _db.Insert(row, typeof(ContainerRow));
            return 0;
        });
    }

    public ContainerRow? Get(string id)
    {
        lock (_gate)
        {
            return _db.Query<ContainerRow>("SELECT * FROM containers WHERE id = ?", id).FirstOrDefault();
        }
    }

    /// <summary>Docker's lookup order: full ID, exact name, then a unique ID prefix.</summary>
    public ContainerRow? Find(string text)
        => Lookup<ContainerRow>("containers", text.StartsWith('/') ? text[1..] : text, (s, _) => $"multiple containers found with provided prefix: {s}");

    /// <summary>All containers, newest first.</summary>
    public IReadOnlyList<ContainerRow> All()
    {
        lock (_gate)
        {
            return _db.Query<ContainerRow>("SELECT * FROM containers ORDER BY created DESC");
        }
    }

    /// <summary>IDs of the images containers were made from (they may not be removed without force).</summary>
    public IReadOnlyList<string> ImagesInUse()
    {
        lock (_gate)
        {
            return _db.QueryScalars<string>("SELECT DISTINCT image_id FROM containers");
        }
    }

    /// <summary>Re-reads the row and applies <paramref name="change"/> in one write transaction; null when the row is gone.</summary>
    public ContainerRow? Update(string id, Func<ContainerRow, bool> change)
    {
        return Write(() =>
        {
            var row = _db.Query<ContainerRow>("SELECT * FROM containers WHERE id = ?", id).FirstOrDefault();
            if (row is not null && change(row))
            {
                _db.Update(row, typeof(ContainerRow));
            }

            return row;
        });
    }

    public void Delete(string id) => Write(() => _db.Execute("DELETE FROM endpoints WHERE container_id = ?", id) + _db.Execute("DELETE FROM containers WHERE id = ?", id));

    public void Dispose()
    {
        lock (_gate)
        {
            _db.Dispose();
        }
    }

    /// <summary>Docker's lookup of a container or a network: full ID, exact name, then a unique ID prefix.</summary>
    private T? Lookup<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.All)] T>(string table, string s, Func<string, int, string> ambiguous)
        where T : new()
    {
        if (s.Length == 0)
        {
            return default;
        }

        lock (_gate)
        {
            var exact = _db.Query<T>($"SELECT * FROM {table} WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1", s);
            if (exact.Count > 0)
            {
                return exact[0];
            }

            if (!s.All(char.IsAsciiHexDigitLower))
            {
                return default;
            }

            var hits = _db.Query<T>($"SELECT * FROM {table} WHERE id GLOB ? LIMIT 2", s + "*");
            return hits.Count switch
            {
                1 => hits[0],
                0 => default,
                _ => throw new Config.ContainerException(ambiguous(s, hits.Count)),
            };
        }
    }

    private T Write<T>(Func<T> body) => MiniDock.Images.Metadata.Sqlite.WriteImmediate(_db, _gate, body);
}
