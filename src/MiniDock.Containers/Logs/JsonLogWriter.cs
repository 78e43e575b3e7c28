using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using MiniDock.Native;

namespace MiniDock.Containers.Logs;

/// <summary>
/// Appends a container's output to its log in the format of Docker's
/// <see href="https://docs.docker.com/engine/logging/drivers/json-file/">json-file driver</see>, one object per
/// line: <c>{"log":"hello\n","stream":"stdout","time":"2026-11-23T01:02:03.1234567Z"}</c>, so that
/// <c>docker logs</c>-style tools (and people used to <c>/var/lib/docker/containers/*/*-json.log</c>) read it as is.
/// </summary>
/// <remarks>
/// Like Docker's log copier (moby <c>daemon/logger/copier.go</c>) the output is cut into lines, each keeping its
/// "\n" (and a "\r" before it); a line that grows to <see cref="MaxLine"/> bytes without a newline is written as a
/// partial entry without "\n", so one endless line cannot hold the whole stream in memory; what is left when the
/// stream closes is written by <see cref="Flush"/>, also without "\n". Each entry is one write(2) to a file opened
/// O_APPEND, so a reader never sees two entries interleaved, and a writer killed mid-write leaves at worst one torn
/// last line, which <see cref="JsonLogReader"/> skips.
/// </remarks>
public sealed class JsonLogWriter : IDisposable
{
    /// <summary>Docker's copier buffer (16 KiB): the longest entry written without a newline.</summary>
    public const int MaxLine = 16 * 1024;

    private const uint LogMode = 0x1a0; // 0640

    private readonly object _gate = new();
    private readonly SafeFileHandle _file;
    private readonly ArrayBufferWriter<byte> _json = new(512);
    private readonly ArrayBufferWriter<byte> _escaped = new(256);
    private readonly ArrayBufferWriter<byte> _stdoutPartial = new(256);
    private readonly ArrayBufferWriter<byte> _stderrPartial = new(256);
    private bool _disposed;

    /// <summary>Opens (creating it 0640, as Docker does) the log at <paramref name="path"/> for appending.</summary>
    public JsonLogWriter(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var existed = File.Exists(path);
        // O_APPEND by hand: FileStream's Append mode only seeks to the end once and then writes at its own
        // offset, which would overwrite what another writer (a restarted container's) appended meanwhile.
        _file = new SafeFileHandle(Sys.Open(path, OpenFlags.WrOnly | OpenFlags.Creat | OpenFlags.Append, LogMode), ownsHandle: true);
        if (!existed)
        {
            // The create mode went through the umask; 0640 is what the log must be whatever the umask.
            Sys.Check(Libc.fchmod(Fd, LogMode), $"chmod {path}");
        }
    }

    /// <summary>
    /// Adds output read from the container's <paramref name="stream"/> ("stdout" or "stderr"): every complete line
    /// in it (with what was buffered before it) becomes one entry; the rest waits for its newline. Safe to call from
    /// the stdout and stderr pumps at once.
    /// </summary>
    public void Write(string stream, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = DateTime.UtcNow;
            var partial = Partial(stream);
            while (!data.IsEmpty)
            {
                var room = MaxLine - partial.WrittenCount;
                var nl = data.IndexOf((byte)'\n');
                if (nl >= 0 && nl < room)
                {
                    // A complete line that fits: buffered start + this piece, newline included.
                    Emit(stream, Join(partial, data[..(nl + 1)]), now);
                    partial.ResetWrittenCount();
                    data = data[(nl + 1)..];
                }
                else if (data.Length >= room)
                {
                    // MaxLine bytes and still no newline: out as a partial entry, as Docker's copier does.
                    Emit(stream, Join(partial, data[..room]), now);
                    partial.ResetWrittenCount();
                    data = data[room..];
                }
                else
                {
                    partial.Write(data);
                    break;
                }
            }
        }
    }

    /// <summary>Writes the unterminated rest of <paramref name="stream"/>, if any, without a newline: call it when that stream closes.</summary>
    public void Flush(string stream)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = DateTime.UtcNow;
            var partial = Partial(stream);
            if (partial.WrittenCount > 0)
            {
                Emit(stream, partial.WrittenSpan, now);
                partial.ResetWrittenCount();
            }
        }
    }

    /// <summary>Flushes both streams' unterminated rests (the container is gone) and closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                var now = DateTime.UtcNow;
                if (_stdoutPartial.WrittenCount > 0)
                {
                    Emit("stdout", _stdoutPartial.WrittenSpan, now);
                }

                if (_stderrPartial.WrittenCount > 0)
                {
                    Emit("stderr", _stderrPartial.WrittenSpan, now);
                }
            }
            finally
            {
                _disposed = true;
                _file.Dispose();
            }
        }
    }

    private int Fd => (int)_file.DangerousGetHandle();

    private ArrayBufferWriter<byte> Partial(string stream) => stream switch
    {
        "stdout" => _stdoutPartial,
        "stderr" => _stderrPartial,
        _ => throw new ArgumentOutOfRangeException(nameof(stream), stream, "a container log stream is \"stdout\" or \"stderr\""),
    };

    /// <summary>The buffered start of a line followed by <paramref name="rest"/>; no copy when nothing was buffered.</summary>
    private static ReadOnlySpan<byte> Join(ArrayBufferWriter<byte> partial, ReadOnlySpan<byte> rest)
    {
        if (partial.WrittenCount == 0)
        {
            return rest;
        }

        partial.Write(rest);
        return partial.WrittenSpan;
    }

    private void Emit(string stream, ReadOnlySpan<byte> line, DateTime time)
    {
        _escaped.ResetWrittenCount();
        LogJson.WriteDockerString(_escaped, line);
        _json.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_json, new JsonWriterOptions { SkipValidation = true }))
        {
            w.WriteStartObject();
            w.WritePropertyName("log"u8);
            // Docker's own escaping (see LogJson), not the writer's: the bytes in the file are then Docker's.
            w.WriteRawValue(_escaped.WrittenSpan, skipInputValidation: true);
            w.WriteString("stream"u8, stream);
            w.WriteString("time"u8, LogJson.FormatRfc3339Nano(time));
            w.WriteEndObject();
        }

        _json.Write("\n"u8);
        Sys.WriteAll(Fd, _json.WrittenSpan);
    }
}
