using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>The outcome of one finished command.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>Everything a failure message needs to be diagnosed without re-running.</summary>
    public string Describe() =>
        $"`{Command}` exited {ExitCode} after {Elapsed.TotalMilliseconds:F0} ms\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    public override string ToString() => Describe();
}

/// <summary>
/// A command started in the background with stdin from /dev/null and stdout/stderr going to files.
/// A detached container inherits the runtime's stdio and may hold it long after the runtime exited, so
/// pipes (whose EOF would never come) are avoided: once the runtime exits, everything it wrote is in the files.
/// </summary>
public sealed class RunningCommand : IDisposable
{
    /// <summary>Runs "$@" with its stdio redirected; exec keeps the pid, so signals reach the command itself.</summary>
    private const string Redirect = "exec \"$@\" </dev/null >\"$MINIDOCK_IT_STDOUT\" 2>\"$MINIDOCK_IT_STDERR\"";

    private readonly Process _process;
    private readonly Stopwatch _clock;
    private readonly string _stdoutPath;
    private readonly string _stderrPath;

    public RunningCommand(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? ioDir = null)
    {
        var argList = args.ToList();
        Command = string.Join(' ', new[] { fileName }.Concat(argList.Select(Quote)));
        ioDir ??= Path.GetTempPath();
        var stem = Path.Combine(ioDir, "io-" + Guid.NewGuid().ToString("N")[..12]);
        _stdoutPath = stem + ".out";
        _stderrPath = stem + ".err";

        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in (string[])["-c", Redirect, "sh", fileName, .. argList])
        {
            psi.ArgumentList.Add(a);
        }

        if (env is not null)
        {
            foreach (var (k, v) in env)
            {
                psi.Environment[k] = v;
            }
        }

        psi.Environment["MINIDOCK_IT_STDOUT"] = _stdoutPath;
        psi.Environment["MINIDOCK_IT_STDERR"] = _stderrPath;

        _clock = Stopwatch.StartNew();
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Command}");
        Pid = _process.Id;
    }

    public string Command { get; }

    public int Pid { get; }

    public bool HasExited => _process.HasExited;

    public string StdoutSoFar => ReadShared(_stdoutPath);

    public string StderrSoFar => ReadShared(_stderrPath);

    /// <summary>Sends a signal to the command itself (not its children).</summary>
    public void Signal(int signal)
    {
        if (Native.Kill(Pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({Pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the command to exit; on timeout kills its whole tree and fails the test.</summary>
    public CommandResult Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the wait and the kill.
            }

            _process.WaitForExit(5000);
            var partial = $"--- stdout ---\n{StdoutSoFar}\n--- stderr ---\n{StderrSoFar}";
            DeleteFiles();
            Assert.Fail($"`{Command}` did not finish within {timeout.TotalSeconds:F0} s and was killed\n{partial}");
        }

        var result = new CommandResult(Command, _process.ExitCode, StdoutSoFar, StderrSoFar, _clock.Elapsed);
        DeleteFiles();
        return result;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
        }

        _process.Dispose();
        DeleteFiles();
    }

    private static string ReadShared(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(fs, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    private void DeleteFiles()
    {
        // A detached container may still hold them open: unlinking is fine.
        File.Delete(_stdoutPath);
        File.Delete(_stderrPath);
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,@%+".Contains(ch)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}

/// <summary>Runs commands to completion with a hard timeout.</summary>
public static class ProcessRunner
{
    public static CommandResult Run(string fileName, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? env = null, string? ioDir = null)
    {
        using var cmd = new RunningCommand(fileName, args, env, ioDir);
        return cmd.Wait(timeout);
    }
}

/// <summary>The few libc calls the tests need.</summary>
public static class Native
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int MNT_DETACH = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "umount2", SetLastError = true)]
    public static extern int Umount2(string target, int flags);
}
