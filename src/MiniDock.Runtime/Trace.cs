using System.Diagnostics;

namespace MiniDock.Runtime;

/// <summary>
/// <c>--debug</c>/<c>--trace</c>: each step the engine takes, with the time since the command
/// started, on stderr (stdout belongs to the container). The init sends its steps to the parent over
/// the init socket, so they print in order with the parent's own.
/// </summary>
public sealed class Trace
{
    private readonly Action<string>? _sink;
    private readonly long _start;

    public Trace(Action<string>? sink, long start = 0)
    {
        _sink = sink;
        _start = start == 0 ? Stopwatch.GetTimestamp() : start;
    }

    public static Trace Off { get; } = new(null);

    public bool Enabled => _sink is not null;

    public long Start => _start;

    public void Step(string what)
    {
        if (_sink is not null)
        {
            _sink($"[{Stopwatch.GetElapsedTime(_start).TotalMilliseconds,9:F3} ms] {what}");
        }
    }
}
