using SQLite;

namespace MiniDock.Images.Metadata;

/// <summary>
/// What MiniDock's two databases (images, containers) do alike. The one SQLite call the busy timeout does not cover: switching a new database file to WAL while another process
/// opens the same new file. SQLite then answers SQLITE_BUSY/LOCKED at once instead of calling the busy handler
/// (https://www.sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode), so the switch is retried here
/// with a short back-off, up to the same 10 s a writer would wait.
/// </summary>
public static class Sqlite
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

    /// <summary>
    /// One write transaction, <c>BEGIN IMMEDIATE</c>: the write lock is taken up front and waited for through the busy
    /// timeout (a deferred transaction that reads first would get SQLITE_BUSY at its first write, the classic
    /// "database is locked"); rolled back on any exception. <paramref name="gate"/> serialises the connection in-process.
    /// </summary>
    public static T WriteImmediate<T>(SQLiteConnection db, Lock gate, Func<T> body)
    {
        lock (gate)
        {
            db.Execute("BEGIN IMMEDIATE");
            try
            {
                var result = body();
                db.Execute("COMMIT");
                return result;
            }
            catch
            {
                try
                {
                    db.Execute("ROLLBACK");
                }
                catch (SQLiteException)
                {
                    // SQLite may already have rolled back (e.g. after SQLITE_FULL); the original error matters more.
                }

                throw;
            }
        }
    }
}
