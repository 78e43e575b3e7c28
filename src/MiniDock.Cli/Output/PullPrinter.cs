using MiniDock.Images;

namespace MiniDock.Cli.Output;

/// <summary>
/// Pull progress as Docker shows it: on a terminal one live line per layer with bytes and speed;
/// otherwise one plain line per state change (logs and CI stay readable).
/// </summary>
internal sealed class PullPrinter : IPullProgress
{
    private readonly object _gate = new();
    private readonly bool _tty = !Console.IsOutputRedirected;
    private readonly List<string> _order = [];
    private readonly Dictionary<string, (long Size, long Done, string State, DateTime Start)> _layers = [];
    private DateTime _lastDraw;
    private int _drawn;

    public void Resolved(string reference, string manifestDigest, int layers)
    {
        lock (_gate)
        {
            Console.WriteLine($"{Tag(reference)}: Pulling from {Repo(reference)}");
        }
    }

    public void Layer(string digest, long size, LayerState state)
    {
        lock (_gate)
        {
            if (!_layers.ContainsKey(digest))
            {
                _order.Add(digest);
            }

            var text = state switch
            {
                LayerState.Exists => "Already exists",
                LayerState.Downloading => "Downloading",
                LayerState.Verifying => "Verifying Checksum",
                LayerState.Downloaded => "Download complete",
                LayerState.Extracting => "Extracting",
                LayerState.Done => "Pull complete",
                _ => "Waiting",
            };
            _layers[digest] = (size, _layers.TryGetValue(digest, out var l) ? l.Done : 0, text, l.Start == default ? DateTime.UtcNow : l.Start);
            if (_tty)
            {
                Draw(force: true);
            }
            else
            {
                Console.WriteLine($"{ImageService.Short(digest)}: {text}");
            }
        }
    }

    public void Bytes(string digest, long total)
    {
        if (!_tty)
        {
            return;
        }

        lock (_gate)
        {
            if (_layers.TryGetValue(digest, out var l))
            {
                _layers[digest] = l with { Done = total };
            }

            Draw(force: false);
        }
    }

    public void Finish(string reference, string digest, bool quiet)
    {
        if (quiet)
        {
            Console.WriteLine(reference);
            return;
        }

        Console.WriteLine($"Digest: {digest}");
        Console.WriteLine($"Status: Downloaded newer image for {reference}");
        Console.WriteLine(reference);
    }

    private void Draw(bool force)
    {
        var now = DateTime.UtcNow;
        if (!force && (now - _lastDraw).TotalMilliseconds < 100)
        {
            return;
        }

        _lastDraw = now;
        if (_drawn > 0)
        {
            Console.Write($"\x1b[{_drawn}A");
        }

        foreach (var d in _order)
        {
            var (size, done, state, start) = _layers[d];
            var line = $"{ImageService.Short(d)}: {state}";
            if (state == "Downloading" && size > 0)
            {
                var width = 30;
                var filled = (int)Math.Min(width, done * width / size);
                var secs = Math.Max(0.001, (now - start).TotalSeconds);
                line += $" [{new string('=', filled)}{(filled < width ? ">" : "")}{new string(' ', Math.Max(0, width - filled - 1))}] {Human(done)}/{Human(size)} {Human((long)(done / secs))}/s";
            }

            Console.Write("\x1b[2K" + line + "\n");
        }

        _drawn = _order.Count;
    }

    public static string Human(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.##}GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.##}MB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):0.##}kB",
        _ => $"{bytes}B",
    };

    private static string Tag(string reference) => reference.Contains('@') ? reference[(reference.IndexOf('@') + 1)..] : reference[(reference.LastIndexOf(':') + 1)..];

    private static string Repo(string reference) => reference.Contains('@') ? reference[..reference.IndexOf('@')] : reference[..reference.LastIndexOf(':')];
}
