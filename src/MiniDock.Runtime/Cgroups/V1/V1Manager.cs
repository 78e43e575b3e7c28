using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>
/// cgroup v1 (and hybrid): one directory per mounted controller hierarchy, plus the cgroup2 tree at
/// /sys/fs/cgroup/unified when the host is hybrid, which gives attach, freeze and cgroup.kill even
/// though it carries no controllers here.
/// </summary>
public sealed class V1Manager : ICgroupManager
{
    private readonly Dictionary<string, string> _mounts; // controller -> mount point
    private readonly string? _unified;
    private readonly List<string> _created;

    public V1Manager(string path, IReadOnlyList<string>? created = null)
    {
        Path = path;
        _mounts = Discover(out _unified);
        _created = created?.ToList() ?? [];
    }

    public string Path { get; }

    public IReadOnlyList<string> Created => _created;

    public IReadOnlyList<string> Directories
    {
        get
        {
            var dirs = _mounts.Values.Distinct().Select(Dir).ToList();
            if (_unified is not null)
            {
                dirs.Add(Dir(_unified));
            }

            return dirs;
        }
    }

    public void Create()
    {
        foreach (var mount in _mounts.Values.Distinct())
        {
            _created.AddRange(CgroupFs.MkdirAll(mount, Path));
        }

        if (_unified is not null)
        {
            _created.AddRange(CgroupFs.MkdirAll(_unified, Path));
        }

        if (_mounts.TryGetValue("cpuset", out var cpuset))
        {
            Cpuset.InitFromParents(cpuset, Path);
        }
    }

    public void Set(ResourcesSpec r, IReadOnlyList<DeviceSpec>? extraDevices)
    {
        if (r.Memory is { } m)
        {
            Memory.Apply(Need("memory"), m);
        }

        if (r.Cpu is { } c)
        {
            if (c.Shares is not null || c.Quota is not null || c.Period is not null || c.RealtimePeriod is not null || c.RealtimeRuntime is not null || c.Idle is not null)
            {
                Cpu.Apply(Need("cpu"), c);
            }

            if (c.Cpus is not null || c.Mems is not null)
            {
                Cpuset.Apply(Need("cpuset"), c);
            }
        }

        if (r.Pids is { } p)
        {
            V1.Pids.Apply(Need("pids"), p);
        }

        if (r.BlockIO is { } b)
        {
            Blkio.Apply(Need("blkio"), b);
        }

        if (r.HugepageLimits is { Count: > 0 } h)
        {
            Hugetlb.Apply(Need("hugetlb"), h);
        }

        if (r.Network is { } n)
        {
            if (n.ClassID is not null)
            {
                Network.ApplyClass(Need("net_cls"), n);
            }

            if (n.Priorities is { Count: > 0 })
            {
                Network.ApplyPriority(Need("net_prio"), n);
            }
        }

        if (_mounts.TryGetValue("devices", out var devices))
        {
            Devices.Apply(Dir(devices), r.Devices, extraDevices);
        }

        if (r.Unified is { Count: > 0 })
        {
            throw new RuntimeError("linux.resources.unified needs a cgroup v2 host; this one is v1");
        }
    }

    public void AddProcess(int pid)
    {
        foreach (var dir in Directories)
        {
            CgroupFs.Write(dir, "cgroup.procs", pid.ToString());
        }
    }

    public IReadOnlyList<int> Pids()
    {
        foreach (var c in new[] { "pids", "memory", "freezer", "cpu" })
        {
            if (_mounts.TryGetValue(c, out var m))
            {
                return CgroupFs.ReadPids(System.IO.Path.Combine(Dir(m), "cgroup.procs"));
            }
        }

        return _unified is null ? [] : CgroupFs.ReadPids(System.IO.Path.Combine(Dir(_unified), "cgroup.procs"));
    }

    public void Freeze() => Freezer.Set(Need("freezer"), true);

    public void Thaw() => Freezer.Set(Need("freezer"), false);

    public bool IsFrozen() => _mounts.TryGetValue("freezer", out var f) && Freezer.IsFrozen(Dir(f));

    public long OomKills() => _mounts.TryGetValue("memory", out var m) ? Memory.OomKills(Dir(m)) : 0;

    public CgroupStats Stats()
    {
        var (usage, inactive, limit) = _mounts.TryGetValue("memory", out var m) ? Memory.Stats(Dir(m)) : (0UL, 0UL, (ulong?)null);
        var (pids, pidsLimit) = _mounts.TryGetValue("pids", out var p) ? V1.Pids.Stats(Dir(p)) : (0UL, (ulong?)null);
        var (read, write) = _mounts.TryGetValue("blkio", out var b) ? Blkio.Stats(Dir(b)) : (0UL, 0UL);
        return new CgroupStats
        {
            CpuUsageNs = _mounts.TryGetValue("cpuacct", out var c) ? Cpuacct.UsageNs(Dir(c)) : 0,
            MemoryUsage = usage,
            InactiveFile = inactive,
            MemoryLimit = limit,
            Pids = pids,
            PidsLimit = pidsLimit,
            BlockRead = read,
            BlockWrite = write,
        };
    }

    public void Signal(int signal)
    {
        // SIGKILL: freeze first so nothing forks while we walk the list, then thaw, which is also what lets
        // the tasks of an already paused container die (a v1 frozen task does not act on SIGKILL until thawed).
        var kill = signal == Consts.SigKill && _mounts.ContainsKey("freezer");
        if (kill && !IsFrozen())
        {
            try { Freeze(); } catch (RuntimeError) { kill = false; }
        }

        foreach (var pid in Pids())
        {
            Libc.kill(pid, signal);
        }

        if (kill)
        {
            Thaw();
        }
    }

    public void Destroy()
    {
        if (Pids().Count > 0)
        {
            // The hybrid cgroup2 tree kills everything at once, forks included; the v1 walk follows.
            if (_unified is not null && File.Exists(System.IO.Path.Combine(Dir(_unified), "cgroup.kill")))
            {
                try { CgroupFs.Write(Dir(_unified), "cgroup.kill", "1"); } catch (RuntimeError) { }
            }

            Signal(Consts.SigKill);
        }

        var dirs = Directories.Concat(Enumerable.Reverse(_created)).Distinct().ToList();
        foreach (var d in dirs)
        {
            CgroupFs.RemoveDir(d);
        }
    }

    private string Dir(string mount) => System.IO.Path.Combine(mount, Path.TrimStart('/'));

    private string Need(string controller) => _mounts.TryGetValue(controller, out var m)
        ? Dir(m)
        : throw new RuntimeError($"the {controller} cgroup controller is not available on this host");

    /// <summary>Each v1 hierarchy's mount point and its controllers ("cpu,cpuacct"), and "cgroup2" for a hybrid unified mount.</summary>
    public static IReadOnlyList<(string MountPoint, string Controllers)> Hierarchies()
    {
        var list = new List<(string, string)>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            if (!left[4].StartsWith(CgroupFs.Root + "/", StringComparison.Ordinal))
            {
                continue;
            }

            if (right[0] == "cgroup2")
            {
                list.Add((left[4], "cgroup2"));
            }
            else if (right[0] == "cgroup")
            {
                var ctrls = right[2].Split(',').Where(o => o is not ("rw" or "ro" or "xattr" or "clone_children" or "noprefix" or "cpuset_v2_mode") && !o.StartsWith("release_agent=", StringComparison.Ordinal));
                list.Add((left[4], string.Join(',', ctrls)));
            }
        }

        return list;
    }

    /// <summary>Reads the v1 hierarchies (and a hybrid cgroup2 mount) from /proc/self/mountinfo.</summary>
    internal static Dictionary<string, string> Discover(out string? unified)
    {
        unified = null;
        var map = new Dictionary<string, string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0)
            {
                continue;
            }

            var left = line[..sep].Split(' ');
            var right = line[(sep + 3)..].Split(' ');
            var mountPoint = left[4];
            if (right[0] == "cgroup2" && mountPoint.StartsWith(CgroupFs.Root, StringComparison.Ordinal))
            {
                unified ??= mountPoint;
            }
            else if (right[0] == "cgroup" && right.Length >= 3)
            {
                foreach (var opt in right[2].Split(','))
                {
                    if (opt is "rw" or "ro" or "xattr" or "clone_children" or "noprefix" or "cpuset_v2_mode" || opt.Contains('='))
                    {
                        continue;
                    }

                    map.TryAdd(opt, mountPoint);
                }
            }
        }

        return map;
    }
}
