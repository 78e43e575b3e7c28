using MiniDock.Native;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Reads a blob while its download is still appending to the ingest file, so that a layer unpacks as its
/// bytes arrive rather than after the last one. The downloader's progress reports (total bytes on disk,
/// reported after each write) say how far it is safe to read; a read past them waits for the next report.
/// </summary>
/// <remarks>
/// Nothing read through this is trusted by itself: the download's own sha256 check decides whether the blob is
/// good, and the layer's DiffID (the sha256 of the uncompressed tar the extractor consumed) whether what was
/// unpacked is the layer. A download that starts over (a registry that cannot resume: progress goes back) or
/// fails makes reads throw, and the layer is then unpacked from the verified blob instead.
/// The file is opened with plain open(2), without the advisory lock .NET's FileStream would take (the
/// downloader holds an exclusive one), and read with pread(2) at our own offset.
/// </remarks>
public sealed class IngestTail : Stream
{
    private readonly object _lock = new();
    private readonly string _path;
    private int _fd = -1;
    private long _available;
    private long _length = -1;
    private long _position;
    private bool _restarted;
    private Exception? _failure;
    private CancellationTokenRegistration _cancel;
    private CancellationToken _ct;

    /// <param name="path">The ingest file the download writes (it exists from the first report on).</param>
    public IngestTail(string path) => _path = path ?? throw new ArgumentNullException(nameof(path));

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>Reads wait for data until this token is cancelled (then throw <see cref="OperationCanceledException"/>).</summary>
    public void Bind(CancellationToken ct)
    {
        lock (_lock)
        {
            _ct = ct;
        }

        _cancel = ct.Register(() =>
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        });
    }

    /// <summary>The downloader's progress: <paramref name="written"/> bytes are in the file. Less than before means it started over.</summary>
    public void Report(long written)
    {
        lock (_lock)
        {
            if (_fd < 0 && _failure is null)
            {
                try
                {
                    _fd = Sys.Open(_path, OpenFlags.RdOnly);
                }
                catch (SysException e)
                {
                    _failure = e;
                }
            }

            if (written < _available)
            {
                _restarted = true;
            }

            _available = Math.Max(_available, written);
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>The download ended with all <paramref name="length"/> bytes written: reads end there.</summary>
    public void Complete(long length)
    {
        lock (_lock)
        {
            _length = length;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>The download failed: pending and later reads throw.</summary>
    public void Fail(Exception error)
    {
        lock (_lock)
        {
            _failure ??= error;
            Monitor.PulseAll(_lock);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        long end;
        int fd;
        lock (_lock)
        {
            while (true)
            {
                if (_failure is { } f)
                {
                    throw new IOException($"the download of {Path.GetFileName(_path)} failed: {f.Message}", f);
                }

                if (_restarted)
                {
                    throw new IOException($"the download of {Path.GetFileName(_path)} started over");
                }

                _ct.ThrowIfCancellationRequested();
                if (_fd >= 0 && _position < _available)
                {
                    break;
                }

                if (_length >= 0 && _position >= _length)
                {
                    return 0;
                }

                Monitor.Wait(_lock);
            }

            end = _length >= 0 ? Math.Min(_available, _length) : _available;
            fd = _fd;
        }

        var n = FsAt.PRead(fd, buffer[..(int)Math.Min(buffer.Length, end - _position)], _position);
        if (n == 0)
        {
            // Shorter than reported: truncated by a restart that has not been reported yet.
            throw new IOException($"the download of {Path.GetFileName(_path)} started over");
        }

        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => ValueTask.FromResult(Read(buffer.Span));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cancel.Dispose();
            lock (_lock)
            {
                Sys.Close(_fd);
                _fd = -1;
                _failure ??= new ObjectDisposedException(nameof(IngestTail));
                Monitor.PulseAll(_lock);
            }
        }

        base.Dispose(disposing);
    }
}
