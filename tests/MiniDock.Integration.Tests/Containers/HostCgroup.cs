namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Where a process's cgroup lives on the host, read from /proc/PID/cgroup as any admin would, so that the
/// hog tests check the kernel's own counters rather than anything MiniDock reports about itself.
/// </summary>
internal static class HostCgroup
{
    /// <summary>
    /// The cgroup directory of <paramref name="pid"/> for a v1 <paramref name="controller"/> (e.g. "pids",
    /// "cpu"), or its v2 directory when that controller is on the unified hierarchy; null when neither has it.
    /// </summary>
    public static string? Dir(int pid, string controller)
    {
        string? unified = null;
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            if (parts[1].Length == 0)
            {
                unified = parts[2];
                continue;
            }

            if (parts[1].Split(',').Contains(controller))
            {
                var mount = Path.Combine("/sys/fs/cgroup", parts[1]);
                if (!Directory.Exists(mount))
                {
                    mount = Path.Combine("/sys/fs/cgroup", controller);
                }

                return mount + parts[2];
            }
        }

        if (unified is null)
        {
            return null;
        }

        var root = File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
        var dir = root + unified;
        return File.Exists(Path.Combine(root, "cgroup.controllers"))
            && File.ReadAllText(Path.Combine(root, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries).Contains(controller)
            ? dir : null;
    }

    /// <summary>A "key value" line of a flat-keyed cgroup file (cpu.stat, pids.events, memory.events).</summary>
    public static long Keyed(string file, string key)
    {
        foreach (var line in File.ReadAllLines(file))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[0] == key)
            {
                return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"{file} has no {key}:\n{File.ReadAllText(file)}");
    }
}
