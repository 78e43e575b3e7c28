using System.Text;

namespace MiniDock.Containers.Logs;

/// <summary>
/// Writes entries as <see href="https://docs.docker.com/reference/cli/docker/container/logs/">docker logs</see>
/// does: each to the stream it came from (so <c>2&gt;/dev/null</c> works as it did for the container), the bytes
/// unchanged, and with <c>-t</c> each entry prefixed by its time in RFC3339Nano with all 9 digits and a space.
/// </summary>
public static class LogPrinter
{
    /// <summary>Prints one entry; stdout entries to <paramref name="stdout"/>, stderr entries to <paramref name="stderr"/>.</summary>
    public static void Print(LogEntry e, bool timestamps, Stream stdout, Stream stderr)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var target = e.Stream == "stderr" ? stderr : stdout;
        if (timestamps)
        {
            Span<byte> prefix = stackalloc byte[40];
            var n = Encoding.ASCII.GetBytes(LogJson.FormatRfc3339NanoFixed(e.Time), prefix);
            prefix[n++] = (byte)' ';
            target.Write(prefix[..n]);
        }

        target.Write(e.Line);
    }
}
