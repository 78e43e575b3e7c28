namespace MiniDock.Containers.Logs;

/// <summary>
/// One json-file entry: which stream it came from, when it was read from the container (UTC, 100 ns precision), and
/// its bytes as the container wrote them, newline included (none for a partial line). Bytes rather than a string
/// because <c>docker logs</c> hands output back byte for byte (only invalid UTF-8 became U+FFFD when written).
/// </summary>
public sealed record LogEntry(string Stream, DateTime Time, byte[] Line);
