using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// The one SQLite call the busy timeout does not cover: switching a new database file to WAL while another process
/// opens the same new file. SQLite then answers SQLITE_BUSY/LOCKED at once instead of calling the busy handler
/// (https://www.sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode), so the switch is retried here
/// with a short back-off, up to the same 10 s a writer would wait.
/// </summary>
public static class SqliteRetry
{
    public static string WalSwitch(SQLiteConnection db)
    {
        var deadline = Environment.TickCount64 + 10_000;
        var delay = 5;
        while (true)
        {
            try
            {
                return db.ExecuteScalar<string>("PRAGMA journal_mode=WAL");
            }
            catch (SQLiteException e) when (e.Result is SQLite3.Result.Busy or SQLite3.Result.Locked && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 100);
            }
        }
    }
}
