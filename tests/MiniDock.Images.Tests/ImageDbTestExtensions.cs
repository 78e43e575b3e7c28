using MiniDock.Images.Metadata;

namespace MiniDock.Images.Tests;

internal static class ImageDbTestExtensions
{
    /// <summary>Reads a PRAGMA through a separate connection so tests need no access to ImageDb internals.</summary>
    public static string ExecuteScalarForTest(this ImageDb db, string sql)
    {
        using var c = new SQLite.SQLiteConnection(db.DatabasePath);
        return c.ExecuteScalar<string>(sql);
    }
}
