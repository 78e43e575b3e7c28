using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.Output;

/// <summary>
/// Errors as runc reports them: one line on stderr, and the same in the --log file, either as
/// logrus text (<c>time="…" level=error msg="…"</c>) or as JSON (<c>{"level":"error","msg":"…","time":"…"}</c>),
/// which containerd's and podman's shims parse.
/// </summary>
internal static class ErrorLog
{
    public static void Write(string? logFile, string format, string message)
    {
        Console.Error.WriteLine(message);
        if (string.IsNullOrEmpty(logFile))
        {
            return;
        }

        var time = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var line = format == "json"
            ? StateJson.Line(("level", "error"), ("msg", message), ("time", time))
            : $"time=\"{time}\" level=error msg=\"{message.Replace("\"", "\\\"")}\"";
        try
        {
            File.AppendAllText(logFile, line + "\n");
        }
        catch (IOException)
        {
        }
    }
}
