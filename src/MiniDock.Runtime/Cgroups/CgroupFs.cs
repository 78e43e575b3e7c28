using MiniDock.Native;

namespace MiniDock.Runtime.Cgroups;

/// <summary>Small file helpers shared by both cgroup drivers, and the choice of driver for this host.</summary>
public static class CgroupFs
{
    /// <summary>The number after <paramref name="key"/> in a "key value" per line file (memory.events, memory.oom_control); 0 when the file or key is absent.</summary>
    public static long KeyedValue(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var sp = line.IndexOf(' ');
                if (sp > 0 && line.AsSpan(0, sp).SequenceEqual(key) && long.TryParse(line.AsSpan(sp + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                {
                    return n;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // no memory controller here, or the cgroup went away
        }

        return 0;
    }

    public const string Root = "/sys/fs/cgroup";

    /// <summary>Whether /sys/fs/cgroup itself is cgroup2 (a unified host), as opposed to v1 or hybrid.</summary>
    public static bool IsUnified(string root = Root)
    {
        try
        {
            return Sys.StatfsType(root) == Consts.Cgroup2SuperMagic;
        }
        catch (SysException)
        {
            return false;
        }
    }

    /// <summary>
    /// Where a container's cgroup goes. An absolute cgroupsPath is honoured as given, relative to each
    /// hierarchy's root (podman passes <c>/libpod_parent/…</c>, containerd <c>/NAMESPACE/ID</c>).
    /// A relative or empty one goes under a <c>minidock</c> parent at the root, never under the
    /// caller's own cgroup (config-linux.md#cgroups-path leaves this to the runtime).
    /// </summary>
    public static string ResolvePath(string? cgroupsPath, string id)
    {
        if (string.IsNullOrEmpty(cgroupsPath))
        {
            return "/minidock/" + id;
        }

        if (cgroupsPath.Contains(':', StringComparison.Ordinal) && !cgroupsPath.StartsWith('/'))
        {
            // systemd form "slice:prefix:name": no systemd here, so map it to a plain path.
            var parts = cgroupsPath.Split(':');
            return "/minidock/" + string.Join('/', parts.Where(p => p.Length > 0));
        }

        var clean = string.Join('/', cgroupsPath.Split('/', StringSplitOptions.RemoveEmptyEntries));
        if (clean.Split('/').Any(p => p is "." or ".."))
        {
            throw new RuntimeError($"invalid cgroupsPath {cgroupsPath}: '.' and '..' are not allowed");
        }

        return cgroupsPath.StartsWith('/') ? "/" + clean : "/minidock/" + clean;
    }

    public static ICgroupManager For(string path, IReadOnlyList<string>? created = null) => IsUnified() ? new V2.V2Manager(Root, path, created) : new V1.V1Manager(path, created);

    public static void Write(string dir, string file, string value)
    {
        var p = System.IO.Path.Combine(dir, file);
        try
        {
            File.WriteAllText(p, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeError($"cgroup: write {value.Trim()} to {p}: {e.Message}");
        }
    }

    public static bool TryWrite(string dir, string file, string value)
    {
        var p = System.IO.Path.Combine(dir, file);
        if (!File.Exists(p))
        {
            return false;
        }

        Write(dir, file, value);
        return true;
    }

    public static string Read(string dir, string file) => File.ReadAllText(System.IO.Path.Combine(dir, file)).Trim();

    public static IReadOnlyList<int> ReadPids(string file)
    {
        var list = new List<int>();
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                if (int.TryParse(line, out var pid))
                {
                    list.Add(pid);
                }
            }
        }
        catch (IOException)
        {
        }

        return list;
    }

    /// <summary>Creates <paramref name="rel"/> under <paramref name="mount"/>, returning the directories it had to make.</summary>
    public static List<string> MkdirAll(string mount, string rel)
    {
        var made = new List<string>();
        var cur = mount;
        foreach (var part in rel.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            cur = System.IO.Path.Combine(cur, part);
            if (!Directory.Exists(cur))
            {
                try
                {
                    Directory.CreateDirectory(cur);
                    made.Add(cur);
                }
                catch (IOException) when (Directory.Exists(cur))
                {
                }
            }
        }

        return made;
    }

    /// <summary>rmdir with retries: a cgroup stays busy for a moment after its last process exits.</summary>
    public static void RemoveDir(string dir)
    {
        for (var i = 0; i < 50; i++)
        {
            try
            {
                Directory.Delete(dir);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(10);
            }
        }
    }

    public static string DeviceRule(string type, long? major, long? minor, string? access)
        => $"{(string.IsNullOrEmpty(type) ? "a" : type)} {(major is null or < 0 ? "*" : major.ToString())}:{(minor is null or < 0 ? "*" : minor.ToString())} {(string.IsNullOrEmpty(access) ? "rwm" : access)}";
}
