using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace MiniDock.Containers.Logs;

/// <summary>
/// Reads a json-file log (<see cref="JsonLogWriter"/>, or Docker's own) for <c>logs</c>, <c>logs --tail</c> and
/// <c>logs -f</c>. Only lines ended by "\n" count: the writer puts each entry out in one write(2), so an
/// unterminated last line is one still being written or one torn by a writer killed mid-write; it is left alone
/// (and a torn line that a later writer appended to, which is no longer JSON, is skipped), so a reader never fails
/// on a log the container could not finish.
/// </summary>
public static class JsonLogReader
{
    private const int Block = 64 * 1024;

    /// <summary>How often <see cref="FollowAsync"/> looks for more: Docker's own follower polls too when inotify is absent.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    /// <summary>Every complete entry, oldest first; none when the log does not exist (the container never started).</summary>
    public static IEnumerable<LogEntry> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var h = TryOpen(path);
        if (h is null)
        {
            yield break;
        }

        var buf = new byte[Block];
        var batch = new List<LogEntry>();
        long offset = 0;
        while (true)
        {
            var (consumed, read) = ReadLines(h, ref buf, offset, batch);
            foreach (var e in batch)
            {
                yield return e;
            }

            batch.Clear();
            offset += consumed;
            if (read == 0 || consumed == 0)
            {
                yield break; // end of file, or only an unterminated line left
            }
        }
    }

    /// <summary>
    /// The last <paramref name="n"/> complete entries, oldest first (all of them when <paramref name="n"/> is
    /// negative, as <c>--tail all</c>). Reads backwards from the end in 64 KiB blocks, so the cost is in the entries
    /// asked for, not in the size of the log.
    /// </summary>
    public static IReadOnlyList<LogEntry> Tail(string path, int n)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (n < 0)
        {
            return Read(path).ToList();
        }

        using var h = TryOpen(path);
        return h is null ? [] : TailCore(h, n).Entries;
    }

    /// <summary>
    /// <c>logs -f</c>: yields the existing entries (only the last <paramref name="tail"/> when it is 0 or more), then
    /// each entry as it is appended, until <paramref name="stillRunning"/> has returned false and everything written
    /// before that has been read. Polls every 50 ms rather than using inotify: simpler, and it also works on
    /// filesystems without inotify. A log that does not exist yet is waited for while the container runs.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static async IAsyncEnumerable<LogEntry> FollowAsync(string path, int tail, Func<bool> stillRunning, [EnumeratorCancellation] CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(stillRunning);
        SafeFileHandle? h = null;
        try
        {
            while (h is null)
            {
                ct.ThrowIfCancellationRequested();
                var alive = stillRunning();
                h = TryOpen(path);
                if (h is null)
                {
                    if (!alive)
                    {
                        yield break;
                    }

                    await Task.Delay(Poll, ct).ConfigureAwait(false);
                }
            }

            long offset = 0;
            if (tail >= 0)
            {
                var (entries, end) = TailCore(h, tail);
                foreach (var e in entries)
                {
                    yield return e;
                }

                offset = end;
            }

            var buf = new byte[Block];
            var batch = new List<LogEntry>();
            while (true)
            {
                ct.ThrowIfCancellationRequested();

                // Asked BEFORE draining: whatever the container wrote before it stopped is then read below.
                var alive = stillRunning();
                var got = false;
                if (RandomAccess.GetLength(h) < offset)
                {
                    offset = 0; // truncated under us: start over rather than wait for it to regrow
                }

                while (true)
                {
                    var (consumed, _) = ReadLines(h, ref buf, offset, batch);
                    if (consumed == 0)
                    {
                        break;
                    }

                    offset += consumed;
                    got = true;
                    foreach (var e in batch)
                    {
                        yield return e;
                    }

                    batch.Clear();
                }

                if (!alive)
                {
                    yield break;
                }

                if (!got)
                {
                    await Task.Delay(Poll, ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            h?.Dispose();
        }
    }

    /// <summary>
    /// Reads from <paramref name="offset"/> and parses every complete line in what was read into
    /// <paramref name="into"/>. Returns the bytes consumed (through the last "\n"; 0 if none) and the bytes read.
    /// A line longer than the buffer grows it, so any line is eventually read whole.
    /// </summary>
    private static (int Consumed, int Read) ReadLines(SafeFileHandle h, ref byte[] buf, long offset, List<LogEntry> into)
    {
        while (true)
        {
            var read = ReadFull(h, buf, offset);
            var data = buf.AsSpan(0, read);
            var last = data.LastIndexOf((byte)'\n');
            if (last < 0)
            {
                if (read == buf.Length)
                {
                    Array.Resize(ref buf, buf.Length * 2);
                    continue;
                }

                return (0, read);
            }

            var lines = data[..(last + 1)];
            while (!lines.IsEmpty)
            {
                var nl = lines.IndexOf((byte)'\n');
                if (Parse(lines[..nl]) is { } e)
                {
                    into.Add(e);
                }

                lines = lines[(nl + 1)..];
            }

            return (last + 1, read);
        }
    }

    /// <summary>The last <paramref name="n"/> entries and the offset just past the last complete line (where following resumes).</summary>
    private static (List<LogEntry> Entries, long End) TailCore(SafeFileHandle h, int n)
    {
        var buf = new byte[Block];
        var end = EndOfLastLine(h, buf);
        var reversed = new List<LogEntry>();
        var pos = end;
        var carry = Array.Empty<byte>(); // the end of a line whose start lies before pos
        while (pos > 0 && reversed.Count < n)
        {
            var len = (int)Math.Min(Block, pos);
            pos -= len;
            ReadFull(h, buf.AsSpan(0, len), pos);
            byte[] data;
            if (carry.Length == 0)
            {
                data = buf;
            }
            else
            {
                data = new byte[len + carry.Length];
                buf.AsSpan(0, len).CopyTo(data);
                carry.CopyTo(data.AsSpan(len));
            }

            // data[..stop] always ends with "\n": each round takes the line that this "\n" ends.
            var stop = len + carry.Length;
            while (stop > 0 && reversed.Count < n)
            {
                var prev = data.AsSpan(0, stop - 1).LastIndexOf((byte)'\n');
                if (prev < 0 && pos > 0)
                {
                    break; // its start is in an earlier block
                }

                if (Parse(data.AsSpan(prev + 1, stop - prev - 2)) is { } e)
                {
                    reversed.Add(e);
                }

                stop = prev + 1;
            }

            carry = data.AsSpan(0, stop).ToArray();
        }

        reversed.Reverse();
        return (reversed, end);
    }

    /// <summary>The offset just past the file's last "\n" (0 when there is none): what follows it is unfinished.</summary>
    private static long EndOfLastLine(SafeFileHandle h, byte[] buf)
    {
        var pos = RandomAccess.GetLength(h);
        while (pos > 0)
        {
            var len = (int)Math.Min(buf.Length, pos);
            pos -= len;
            var read = ReadFull(h, buf.AsSpan(0, len), pos);
            var nl = buf.AsSpan(0, read).LastIndexOf((byte)'\n');
            if (nl >= 0)
            {
                return pos + nl + 1;
            }
        }

        return 0;
    }

    /// <summary>One json-file line (without its "\n") as an entry; null for anything that is not one (a torn line).</summary>
    internal static LogEntry? Parse(ReadOnlySpan<byte> line)
    {
        try
        {
            var r = new Utf8JsonReader(line);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            byte[]? log = null;
            string? stream = null;
            DateTime? time = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                var which = r.ValueTextEquals("log"u8) ? 1 : r.ValueTextEquals("stream"u8) ? 2 : r.ValueTextEquals("time"u8) ? 3 : 0;
                r.Read();
                if (which == 0)
                {
                    r.Skip(); // "attrs" (--log-opt labels/env) and whatever a later Docker adds
                    continue;
                }

                if (r.TokenType != JsonTokenType.String)
                {
                    return null;
                }

                switch (which)
                {
                    case 1:
                        log = Unescaped(ref r);
                        break;
                    case 2:
                        stream = r.ValueTextEquals("stdout"u8) ? "stdout" : r.ValueTextEquals("stderr"u8) ? "stderr" : r.GetString();
                        break;
                    default:
                        if (!LogJson.TryParseRfc3339(r.GetString(), out var t))
                        {
                            return null;
                        }

                        time = t;
                        break;
                }
            }

            // Anything after the object (a torn line with a new one appended to it) makes Read throw.
            if (r.TokenType != JsonTokenType.EndObject || r.Read())
            {
                return null;
            }

            return log is null || stream is null || time is null ? null : new LogEntry(stream, time.Value, log);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null; // an escape that is not valid UTF-16 (a lone surrogate): not something Docker writes
        }
    }

    private static byte[] Unescaped(ref Utf8JsonReader r)
    {
        if (!r.ValueIsEscaped)
        {
            return r.ValueSpan.ToArray();
        }

        // Unescaping only ever shortens the text.
        var bytes = new byte[r.ValueSpan.Length];
        var n = r.CopyString(bytes);
        return n == bytes.Length ? bytes : bytes.AsSpan(0, n).ToArray();
    }

    private static SafeFileHandle? TryOpen(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the file ends; returns the bytes read.</summary>
    private static int ReadFull(SafeFileHandle h, Span<byte> buffer, long offset)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = RandomAccess.Read(h, buffer[total..], offset + total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
