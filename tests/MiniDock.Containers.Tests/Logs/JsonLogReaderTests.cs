using System.Text;
using MiniDock.Containers.Logs;

namespace MiniDock.Containers.Tests.Logs;

public sealed class JsonLogReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-logs-").FullName;

    private string LogPath => Path.Combine(_dir, "c-json.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Line(string log, string stream = "stdout", string time = "2026-11-23T01:02:03.123456789Z")
        => $$"""{"log":"{{log}}","stream":"{{stream}}","time":"{{time}}"}""" + "\n";

    private static string Text(LogEntry e) => Encoding.UTF8.GetString(e.Line);

    private void WriteLines(int count, string prefix = "line ")
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            sb.Append(Line($"{prefix}{i}\\n", i % 3 == 0 ? "stderr" : "stdout"));
        }

        File.WriteAllText(LogPath, sb.ToString());
    }

    [Fact]
    public void Reads_dockers_own_lines_with_nanosecond_times_and_attrs()
    {
        File.WriteAllText(LogPath,
            Line("hello\\n") +
            """{"log":"with attrs\n","stream":"stderr","attrs":{"tag":"x","n":[1,{"a":2}]},"time":"2026-11-23T01:02:03Z"}""" + "\n" +
            Line("offset\\n", time: "2026-11-23T03:02:03.5+02:00"));

        var e = JsonLogReader.Read(LogPath).ToList();
        Assert.Equal(3, e.Count);
        Assert.Equal(new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567), e[0].Time); // digits past 100 ns dropped
        Assert.Equal("hello\n", Text(e[0]));
        Assert.Equal(("stderr", "with attrs\n"), (e[1].Stream, Text(e[1])));
        Assert.Equal(new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc), e[1].Time);
        Assert.Equal(new DateTime(2026, 11, 23, 1, 2, 3, 500, DateTimeKind.Utc), e[2].Time);
        Assert.Equal(DateTimeKind.Utc, e[2].Time.Kind);
    }

    [Fact]
    public void Torn_last_line_is_skipped()
    {
        File.WriteAllText(LogPath, Line("one\\n") + Line("two\\n") + """{"log":"thr""");
        Assert.Equal(["one\n", "two\n"], JsonLogReader.Read(LogPath).Select(Text));
        Assert.Equal(["two\n"], JsonLogReader.Tail(LogPath, 1).Select(Text));
    }

    [Fact]
    public void Complete_json_without_its_newline_is_still_unfinished_and_skipped()
    {
        File.WriteAllText(LogPath, Line("one\\n") + Line("two\\n").TrimEnd('\n'));
        Assert.Equal(["one\n"], JsonLogReader.Read(LogPath).Select(Text));
        Assert.Equal(["one\n"], JsonLogReader.Tail(LogPath, 5).Select(Text));
    }

    [Fact]
    public void A_torn_line_that_a_restarted_writer_appended_to_is_skipped()
    {
        // The writer was killed mid-entry; the container's next start appended right after the fragment.
        File.WriteAllText(LogPath, Line("one\\n") + """{"log":"tor""" + Line("after restart\\n") + Line("last\\n"));
        Assert.Equal(["one\n", "last\n"], JsonLogReader.Read(LogPath).Select(Text));
        Assert.Equal(["one\n", "last\n"], JsonLogReader.Tail(LogPath, 10).Select(Text));
    }

    [Fact]
    public void Garbage_and_non_entries_are_skipped()
    {
        File.WriteAllText(LogPath, "\n" + "not json\n" + """{"log":1,"stream":"stdout","time":"2026-11-23T01:02:03Z"}""" + "\n"
            + """{"log":"x","stream":"stdout","time":"yesterday"}""" + "\n" + """["a"]""" + "\n" + Line("ok\\n"));
        Assert.Equal(["ok\n"], JsonLogReader.Read(LogPath).Select(Text));
    }

    [Fact]
    public void Missing_log_reads_as_empty()
    {
        Assert.Empty(JsonLogReader.Read(LogPath));
        Assert.Empty(JsonLogReader.Tail(LogPath, 10));
    }

    [Fact]
    public void Tail_of_a_big_file_returns_the_last_n_in_order()
    {
        WriteLines(12_345);
        var t = JsonLogReader.Tail(LogPath, 100);
        Assert.Equal(Enumerable.Range(12_245, 100).Select(i => $"line {i}\n"), t.Select(Text));
        Assert.Equal(Enumerable.Range(12_245, 100).Select(i => i % 3 == 0 ? "stderr" : "stdout"), t.Select(e => e.Stream));
    }

    [Fact]
    public void Tail_more_than_one_block_back_crosses_block_boundaries_correctly()
    {
        WriteLines(12_345);
        var t = JsonLogReader.Tail(LogPath, 5_000); // ~400 KB: several 64 KiB blocks, lines cut at block edges
        Assert.Equal(Enumerable.Range(12_345 - 5_000, 5_000).Select(i => $"line {i}\n"), t.Select(Text));
    }

    [Fact]
    public void Tail_with_fewer_lines_than_n_returns_them_all()
    {
        WriteLines(7);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"line {i}\n"), JsonLogReader.Tail(LogPath, 100).Select(Text));
        Assert.Empty(JsonLogReader.Tail(LogPath, 0));
        Assert.Equal(7, JsonLogReader.Tail(LogPath, -1).Count); // --tail all
    }

    [Fact]
    public void Tail_handles_lines_longer_than_a_block()
    {
        var huge = new string('z', 200_000);
        File.WriteAllText(LogPath, Line("first\\n") + Line(huge) + Line("last\\n"));
        var t = JsonLogReader.Tail(LogPath, 2);
        Assert.Equal([huge, "last\n"], t.Select(Text));
        Assert.Equal(["first\n", huge, "last\n"], JsonLogReader.Read(LogPath).Select(Text));
    }

    [Fact]
    public async Task Follow_yields_existing_then_appended_lines_and_ends_when_the_container_stops()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20)); // a bug fails the test, never hangs it
        var running = true;
        var got = new List<string>();
        using var w = new JsonLogWriter(LogPath);
        w.Write("stdout", "before\n"u8);

        var follow = Task.Run(async () =>
        {
            await foreach (var e in JsonLogReader.FollowAsync(LogPath, -1, () => Volatile.Read(ref running), cts.Token))
            {
                lock (got)
                {
                    got.Add(Text(e));
                }
            }
        });

        await WaitFor(got, 1, cts.Token);
        w.Write("stdout", "after 1\npart"u8);
        await WaitFor(got, 2, cts.Token);
        await Task.Delay(200, cts.Token);
        lock (got)
        {
            Assert.Equal(2, got.Count); // the partial line is not an entry yet
        }

        w.Write("stderr", "err\n"u8);
        w.Write("stdout", "ial\n"u8);

        // The container stops right after its last write: that write must still be read.
        w.Write("stdout", "last words\n"u8);
        Volatile.Write(ref running, false);
        await follow.WaitAsync(cts.Token);

        Assert.Equal(["before\n", "after 1\n", "err\n", "partial\n", "last words\n"], got);
    }

    [Fact]
    public async Task Follow_with_tail_starts_from_the_last_n_and_sees_new_ones()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        WriteLines(1_000);
        var running = true;
        var got = new List<string>();
        var follow = Task.Run(async () =>
        {
            await foreach (var e in JsonLogReader.FollowAsync(LogPath, 3, () => Volatile.Read(ref running), cts.Token))
            {
                lock (got)
                {
                    got.Add(Text(e));
                }
            }
        });

        await WaitFor(got, 3, cts.Token);
        File.AppendAllText(LogPath, Line("new\\n"));
        await WaitFor(got, 4, cts.Token);
        Volatile.Write(ref running, false);
        await follow.WaitAsync(cts.Token);
        Assert.Equal(["line 997\n", "line 998\n", "line 999\n", "new\n"], got);
    }

    [Fact]
    public async Task Follow_with_tail_zero_yields_only_new_lines()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        WriteLines(10);
        var calls = 0;
        var got = new List<string>();
        await foreach (var e in JsonLogReader.FollowAsync(LogPath, 0, () =>
        {
            if (++calls == 2)
            {
                File.AppendAllText(LogPath, Line("new\\n"));
            }

            return calls < 4;
        }, cts.Token))
        {
            got.Add(Text(e));
        }

        Assert.Equal(["new\n"], got);
    }

    [Fact]
    public async Task Follow_of_a_stopped_container_drains_and_ends_at_once()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        File.WriteAllText(LogPath, Line("a\\n") + Line("b\\n") + """{"log":"torn""");
        var got = new List<string>();
        await foreach (var e in JsonLogReader.FollowAsync(LogPath, -1, () => false, cts.Token))
        {
            got.Add(Text(e));
        }

        Assert.Equal(["a\n", "b\n"], got);
    }

    [Fact]
    public async Task Follow_waits_for_a_log_that_does_not_exist_yet()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var polls = 0;
        var got = new List<string>();
        await foreach (var e in JsonLogReader.FollowAsync(LogPath, -1, () =>
        {
            if (++polls == 3)
            {
                File.WriteAllText(LogPath, Line("late\\n"));
            }

            return polls < 6;
        }, cts.Token))
        {
            got.Add(Text(e));
        }

        Assert.Equal(["late\n"], got);

        // Never created and the container is gone: nothing, and no hang.
        File.Delete(LogPath);
        Assert.Empty(await ToList(JsonLogReader.FollowAsync(LogPath, -1, () => false, cts.Token)));
    }

    [Fact]
    public async Task Follow_is_cancellable()
    {
        WriteLines(2);
        using var cts = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var unused in JsonLogReader.FollowAsync(LogPath, -1, () => true, cts.Token))
            {
                if (++seen == 2)
                {
                    cts.CancelAfter(100);
                }
            }
        });
        Assert.Equal(2, seen);
    }

    [Fact]
    public void Printer_sends_each_stream_to_its_own_output()
    {
        var o = new MemoryStream();
        var err = new MemoryStream();
        var t = new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc);
        LogPrinter.Print(new LogEntry("stdout", t, "out\n"u8.ToArray()), timestamps: false, o, err);
        LogPrinter.Print(new LogEntry("stderr", t, "err\n"u8.ToArray()), timestamps: false, o, err);
        LogPrinter.Print(new LogEntry("stdout", t, "partial"u8.ToArray()), timestamps: false, o, err);
        Assert.Equal("out\npartial", Encoding.UTF8.GetString(o.ToArray()));
        Assert.Equal("err\n", Encoding.UTF8.GetString(err.ToArray()));
    }

    [Fact]
    public void Printer_with_timestamps_prefixes_rfc3339nano_fixed_like_docker_logs_t()
    {
        var o = new MemoryStream();
        var err = new MemoryStream();
        var t = new DateTime(2026, 11, 23, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567);
        LogPrinter.Print(new LogEntry("stdout", t, "hello\n"u8.ToArray()), timestamps: true, o, err);
        LogPrinter.Print(new LogEntry("stderr", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), "oops\n"u8.ToArray()), timestamps: true, o, err);
        Assert.Equal("2026-11-23T01:02:03.123456700Z hello\n", Encoding.UTF8.GetString(o.ToArray()));
        Assert.Equal("2026-01-02T03:04:05.000000000Z oops\n", Encoding.UTF8.GetString(err.ToArray()));
    }

    [Fact]
    public void Printer_writes_bytes_unchanged()
    {
        var o = new MemoryStream();
        byte[] line = [0xef, 0xbf, 0xbd, (byte)'\r', (byte)'\n'];
        LogPrinter.Print(new LogEntry("stdout", DateTime.UtcNow, line), timestamps: false, o, Stream.Null);
        Assert.Equal(line, o.ToArray());
    }

    [Fact]
    public void Written_logs_read_back_through_the_printer_byte_for_byte()
    {
        var output = "plain\n\tindented \"quoted\" \\ back\r\n<html>&\n"u8.ToArray();
        using (var w = new JsonLogWriter(LogPath))
        {
            w.Write("stdout", output);
        }

        var o = new MemoryStream();
        foreach (var e in JsonLogReader.Read(LogPath))
        {
            LogPrinter.Print(e, timestamps: false, o, Stream.Null);
        }

        Assert.Equal(output, o.ToArray());
    }

    private static async Task WaitFor(List<string> got, int count, CancellationToken ct)
    {
        while (true)
        {
            lock (got)
            {
                if (got.Count >= count)
                {
                    return;
                }
            }

            await Task.Delay(10, ct);
        }
    }

    private static async Task<List<LogEntry>> ToList(IAsyncEnumerable<LogEntry> source)
    {
        var list = new List<LogEntry>();
        await foreach (var e in source)
        {
            list.Add(e);
        }

        return list;
    }
}
