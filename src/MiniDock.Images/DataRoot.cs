namespace MiniDock.Images;

/// <summary>
/// Where MiniDock keeps things. <c>MINIDOCK_ROOT=DIR</c> moves all of it (data under DIR/data,
/// runtime state under DIR/run) so tests and experiments stay isolated; otherwise data lives in
/// /var/lib/minidock and state in /run/minidock, as Docker's do in /var/lib/docker and /run/docker.
/// </summary>
public sealed record DataRoot(string Data, string Run)
{
    public static DataRoot FromEnvironment()
    {
        var root = Environment.GetEnvironmentVariable("MINIDOCK_ROOT");
        return string.IsNullOrEmpty(root)
            ? new DataRoot("/var/lib/minidock", "/run/minidock")
            : new DataRoot(Path.Combine(Path.GetFullPath(root), "data"), Path.Combine(Path.GetFullPath(root), "run"));
    }

    /// <summary>The runtime engine's state (runc's --root) for containers MiniDock runs.</summary>
    public string RuntimeState => Path.Combine(Run, "runtime");
}
