using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--stop-signal</c> and the image's <c>StopSignal</c> (https://github.com/opencontainers/image-spec/blob/main/config.md),
/// accepted in every form <c>kill</c> takes (<c>TERM</c>, <c>SIGTERM</c>, <c>15</c>, <c>SIGRTMIN+3</c>) through the
/// runtime's own parser, and kept as one canonical <c>SIGNAME</c> so <c>inspect</c> shows what Docker shows.
/// </summary>
internal static class StopSignals
{
    public static string Normalize(string text)
    {
        int n;
        try
        {
            n = Kill.ParseSignal(text.Trim());
        }
        catch (Exception e) when (e is RuntimeError or FormatException or OverflowException)
        {
            throw new ContainerException($"invalid signal: {text}");
        }

        return Kill.SignalName(n) ?? throw new ContainerException($"invalid signal: {text}");
    }
}
