using System.Text;
using System.Text.Json;
using MiniDock.Containers.Logs;

namespace MiniDock.Containers.Tests.Logs;

public sealed class JsonLogWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-logs-").FullName;

    private string LogPath => Path.Combine(_dir, "c-json.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private string[] RawLines() => File.ReadAllText(LogPath).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private List<(string Log, string Stream)> Entries() => JsonLogReader.Read(LogPath).Select(e => (Encoding.UTF8.GetString(e.Line), e.Stream)).ToList();

    [Fact]
    public void Writes_one_docker_json_object_per_line_with_the_newline_kept_in_log()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("hello\nworld\n"));
        }

        var lines = RawLines();
        Assert.Equal(2, lines.Length);
        Assert.Matches("""^\{"log":"hello\\n","stream":"stdout","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"\}$""", lines[0]);
        Assert.StartsWith("""{"log":"world\n","stream":"stdout","time":""", lines[1], StringComparison.Ordinal);
        Assert.Equal([("hello\n", "stdout"), ("world\n", "stdout")], Entries());
    }

    [Fact]
    public void Time_is_go_rfc3339nano_utc_without_trailing_zeros()
    {
        Assert.Equal("2026-11-23T01:02:03.1234567Z", LogJson.FormatRfc3339Nano(new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567)));
        Assert.Equal("2026-11-23T01:02:03.12Z", LogJson.FormatRfc3339Nano(new DateTime(2026, 11, 23, 1, 2, 3, 120, DateTimeKind.Utc)));
        Assert.Equal("2026-11-23T01:02:03Z", LogJson.FormatRfc3339Nano(new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc)));
    }

    [Fact]
    public void Time_field_is_close_to_now()
    {
        var before = DateTime.UtcNow;
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("x\n"));
        }

        var e = Assert.Single(JsonLogReader.Read(LogPath));
        Assert.Equal(DateTimeKind.Utc, e.Time.Kind);
        Assert.InRange(e.Time, before, DateTime.UtcNow);
    }

    [Fact]
    public void A_line_split_across_writes_is_one_entry()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("hel"));
            w.Write("stdout", B("lo"));
            Assert.Equal(0, new FileInfo(LogPath).Length); // nothing out before the newline
            w.Write("stdout", B(" there\nnext"));
            w.Write("stdout", B("\n"));
        }

        Assert.Equal([("hello there\n", "stdout"), ("next\n", "stdout")], Entries());
    }

    [Fact]
    public void Partial_line_is_flushed_without_newline_on_close_of_its_stream()
    {
        using var w = new JsonLogWriter(LogPath);
        w.Write("stdout", B("done\nno newline"));
        w.Write("stderr", B("err partial"));
        w.Flush("stdout");

        Assert.Equal([("done\n", "stdout"), ("no newline", "stdout")], Entries());
        Assert.Contains("""{"log":"no newline","stream":"stdout",""", File.ReadAllText(LogPath), StringComparison.Ordinal);

        w.Flush("stdout"); // nothing left: nothing written
        Assert.Equal(2, Entries().Count);
    }

    [Fact]
    public void Dispose_flushes_both_streams_partials()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("out"));
            w.Write("stderr", B("err"));
        }

        Assert.Equal([("out", "stdout"), ("err", "stderr")], Entries());
    }

    [Fact]
    public void A_line_reaching_16KiB_without_newline_is_written_in_16KiB_partial_entries()
    {
        var big = new string('a', 40_000);
        using (var w = new JsonLogWriter(LogPath))
        {
            // In small writes, as a pipe delivers it: the buffer must not grow past 16 KiB.
            for (var i = 0; i < big.Length; i += 1000)
            {
                w.Write("stdout", B(big.Substring(i, 1000)));
            }

            Assert.Equal(2, JsonLogReader.Read(LogPath).Count());
            w.Write("stdout", B("\n"));
        }

        var e = JsonLogReader.Read(LogPath).ToList();
        Assert.Equal([16384, 16384, 40_000 - 32768 + 1], e.Select(x => x.Line.Length));
        Assert.DoesNotContain((byte)'\n', e[0].Line);
        Assert.DoesNotContain((byte)'\n', e[1].Line);
        Assert.Equal((byte)'\n', e[2].Line[^1]);
        Assert.Equal(big + "\n", string.Concat(e.Select(x => Encoding.UTF8.GetString(x.Line))));
    }

    [Fact]
    public void Line_of_exactly_16KiB_content_then_newline_splits_like_dockers_16KiB_buffer()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B(new string('b', JsonLogWriter.MaxLine - 1) + "\n" + new string('c', JsonLogWriter.MaxLine) + "\n"));
        }

        var e = JsonLogReader.Read(LogPath).Select(x => x.Line.Length).ToList();
        // 16383 + "\n" fits the buffer; 16384 does not, so its newline comes as an entry of its own.
        Assert.Equal([JsonLogWriter.MaxLine, JsonLogWriter.MaxLine, 1], e);
    }

    [Fact]
    public void Carriage_return_before_newline_is_kept()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("dos line\r\n\rprogress\r50%\r\n"));
        }

        Assert.Equal([("dos line\r\n", "stdout"), ("\rprogress\r50%\r\n", "stdout")], Entries());
        Assert.Contains("""{"log":"dos line\r\n",""", File.ReadAllText(LogPath), StringComparison.Ordinal);
    }

    [Fact]
    public void Stdout_and_stderr_keep_separate_partials()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("out-"));
            w.Write("stderr", B("err-"));
            w.Write("stdout", B("1\n"));
            w.Write("stderr", B("2\n"));
        }

        Assert.Equal([("out-1\n", "stdout"), ("err-2\n", "stderr")], Entries());
    }

    [Fact]
    public async Task Concurrent_stdout_and_stderr_writers_produce_whole_valid_lines()
    {
        const int N = 2000;
        using (var w = new JsonLogWriter(LogPath))
        {
            // Each writer cuts its lines at odd places, so partial buffering and locking are both exercised.
            Task Pump(string stream) => Task.Run(() =>
            {
                var all = B(string.Concat(Enumerable.Range(0, N).Select(i => $"{stream} line {i}\n")));
                for (var i = 0; i < all.Length; i += 7)
                {
                    w.Write(stream, all.AsSpan(i, Math.Min(7, all.Length - i)));
                }
            });
            await Task.WhenAll(Pump("stdout"), Pump("stderr"));
        }

        var raw = RawLines();
        Assert.Equal(2 * N, raw.Length);
        Assert.All(raw, l => Assert.NotNull(JsonLogReader.Parse(Encoding.UTF8.GetBytes(l))));
        var e = Entries();
        foreach (var s in new[] { "stdout", "stderr" })
        {
            Assert.Equal(Enumerable.Range(0, N).Select(i => $"{s} line {i}\n"), e.Where(x => x.Stream == s).Select(x => x.Log));
        }
    }

    [Fact]
    public void Invalid_utf8_becomes_U_FFFD_per_byte_as_docker_writes_it()
    {
        // ff: never valid; e2 82: a truncated 3-byte sequence (two errors for Go); then valid "é" and "€".
        byte[] raw = [(byte)'a', 0xff, (byte)'b', 0xe2, 0x82, (byte)'c', 0xc3, 0xa9, 0xe2, 0x82, 0xac, (byte)'\n'];
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", raw);
        }

        var text = File.ReadAllText(LogPath);
        Assert.StartsWith("""{"log":"a\ufffdb\ufffd\ufffdcé€\n",""", text, StringComparison.Ordinal);
        var e = Assert.Single(JsonLogReader.Read(LogPath));
        Assert.Equal("a\uFFFDb\uFFFD\uFFFDcé€\n", Encoding.UTF8.GetString(e.Line));
        Assert.Equal(B("a\uFFFDb\uFFFD\uFFFDcé€\n"), e.Line);
    }

    [Fact]
    public void Escapes_like_dockers_encoder_and_round_trips_every_ascii_byte()
    {
        var all = Enumerable.Range(0, 128).Where(b => b != '\n').Select(b => (byte)b).Append((byte)'\n').ToArray();
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stderr", all);
            w.Write("stderr", B("<a href=\"x\">&amp;</a>\t\u2028\n"));
        }

        var text = File.ReadAllText(LogPath);
        Assert.Contains("""\u0000\u0001""", text, StringComparison.Ordinal);
        Assert.Contains("""\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e\u0009\u2028\n""", text, StringComparison.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line); // valid JSON by any reader, not just ours
            Assert.Equal("stderr", doc.RootElement.GetProperty("stream").GetString());
        }

        var e = JsonLogReader.Read(LogPath).ToList();
        Assert.Equal(all, e[0].Line);
        Assert.Equal("<a href=\"x\">&amp;</a>\t\u2028\n", Encoding.UTF8.GetString(e[1].Line));
    }

    [Fact]
    public void Appends_to_an_existing_log_and_creates_it_0640()
    {
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("first\n"));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(LogPath));
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", B("second\n"));
        }

        Assert.Equal(["first\n", "second\n"], Entries().Select(x => x.Log));
    }

    [Fact]
    public void Two_writers_on_one_file_append_rather_than_overwrite()
    {
        using var a = new JsonLogWriter(LogPath);
        using var b = new JsonLogWriter(LogPath);
        a.Write("stdout", B("a1\n"));
        b.Write("stdout", B("b1\n"));
        a.Write("stdout", B("a2\n"));

        Assert.Equal(["a1\n", "b1\n", "a2\n"], Entries().Select(x => x.Log));
    }

    [Fact]
    public void Unknown_stream_name_is_refused()
    {
        using var w = new JsonLogWriter(LogPath);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.Write("stdin", B("x\n")));
    }

    [Fact]
    public void Write_after_dispose_throws()
    {
        var w = new JsonLogWriter(LogPath);
        w.Dispose();
        w.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => w.Write("stdout", B("x\n")));
    }
}
