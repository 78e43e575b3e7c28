using System.Globalization;
using MiniDock.Native;

namespace MiniDock.Runtime;

/// <summary>Process liveness and waiting, by PID plus start time (a bare PID can be reused).</summary>
public static class Processes
{
    /// <summary>Field 22 of /proc/PID/stat (start time in clock ticks), or null if the process is gone or a zombie.</summary>
    public static ulong? StartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        if (fields[0] is "Z" or "X")
        {
            return null;
        }

        return ulong.Parse(fields[19], CultureInfo.InvariantCulture);
    }

    public static bool IsAlive(int pid, ulong startTime) => pid > 0 && StartTime(pid) is { } st && (startTime == 0 || st == startTime);

    /// <summary>
    /// Waits for our child <paramref name="pid"/> for up to <paramref name="timeoutMs"/> (-1: forever);
    /// on timeout kills it, reaps it and returns null. Otherwise returns the raw wait status.
    /// </summary>
    public static int? WaitWithTimeout(int pid, int timeoutMs)
    {
        if (timeoutMs >= 0)
        {
            var pidfd = Sys.PidfdOpen(pid);
            if (pidfd >= 0)
            {
                var rc = Sys.PollIn([pidfd], timeoutMs);
                Sys.Close(pidfd);
                if (rc == 0)
                {
                    Libc.kill(pid, Consts.SigKill);
                    Sys.WaitPid(pid, out _);
                    return null;
                }
            }
        }

        Sys.WaitPid(pid, out var status);
        return status;
    }

    /// <summary>Waits (not as a parent) until the process is gone, polling its pidfd.</summary>
    public static bool WaitGone(int pid, ulong startTime, int timeoutMs)
    {
        var pidfd = Sys.PidfdOpen(pid);
        if (pidfd < 0)
        {
            return true;
        }

        try
        {
            var deadline = Environment.TickCount64 + timeoutMs;
            while (IsAlive(pid, startTime))
            {
                var left = (int)Math.Max(0, deadline - Environment.TickCount64);
                if (left == 0)
                {
                    return false;
                }

                // pidfd polls readable at exit; a zombie we don't reap shows as gone through StartTime.
                Sys.PollIn([pidfd], Math.Min(left, 20));
            }

            return true;
        }
        finally
        {
            Sys.Close(pidfd);
        }
    }
}
