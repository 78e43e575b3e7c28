using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>
/// cgroup v2 (unified): one directory; the controllers it needs are enabled in every ancestor's
/// cgroup.subtree_control on the way down. Devices are filtered as v1 does, by the allowlist in
/// linux.resources.devices plus the default devices, compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program
/// attached to the directory (<see cref="Devices"/>; v2 has no devices.allow file: see
/// Documentation/admin-guide/cgroup-v2.rst, "Device controller").
/// </summary>
public sealed class V2Manager : ICgroupManager
{
    private readonly string _mount;
    private readonly List<string> _created;

    public V2Manager(string mount, string path, IReadOnlyList<string>? created = null)
    {
        _mount = mount;
        Path = path;
        _created = created?.ToList() ?? [];
    }

    public string Path { get; }

    public IReadOnlyList<string> Created => _created;

    public IReadOnlyList<string> Directories => [Dir];

    private string Dir => System.IO.Path.Combine(_mount, Path.TrimStart('/'));

    public void Create()
    {
        var available = CgroupFs.Read(_mount, "cgroup.controllers").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var cur = _mount;
        foreach (var part in Path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var enable = string.Join(' ', available.Select(c => "+" + c));
            if (enable.Length > 0)
            {
                try { CgroupFs.Write(cur, "cgroup.subtree_control", enable); } catch (RuntimeError) { }
            }

            cur = System.IO.Path.Combine(cur, part);
            if (!Directory.Exists(cur))
            {
                Directory.CreateDirectory(cur);
                _created.Add(cur);
            }
        }
    }

    public void Set(ResourcesSpec r, IReadOnlyList<DeviceSpec>? extraDevices)
    {
        if (r.Memory is { } m)
        {
            Memory.Apply(Dir, m);
        }

        if (r.Cpu is { } c)
        {
            Cpu.Apply(Dir, c);
            Cpuset.Apply(Dir, c);
        }

        if (r.Pids is { } p)
        {
            V2.Pids.Apply(Dir, p);
        }

        if (r.BlockIO is { } b)
        {
            Io.Apply(Dir, b);
        }

        foreach (var h in r.HugepageLimits ?? [])
        {
            CgroupFs.Write(Dir, $"hugetlb.{h.PageSize}.max", h.Limit.ToString());
        }

        Devices.Apply(Dir, r.Devices);

        foreach (var (key, value) in r.Unified ?? [])
        {
            if (key.Contains('/') || key.Contains(".."))
            {
                throw new RuntimeError($"invalid unified cgroup key {key}");
            }

            CgroupFs.Write(Dir, key, value);
        }
    }

    public void AddProcess(int pid) => CgroupFs.Write(Dir, "cgroup.procs", pid.ToString());

    public IReadOnlyList<int> Pids() => CgroupFs.ReadPids(System.IO.Path.Combine(Dir, "cgroup.procs"));

    public void Freeze() => V2.Freeze.Set(Dir, true);

    public void Thaw() => V2.Freeze.Set(Dir, false);

    public bool IsFrozen() => V2.Freeze.IsFrozen(Dir);

    public long OomKills() => Memory.OomKills(Dir);

    public CgroupStats Stats()
    {
        var (usage, inactive, limit) = Memory.Stats(Dir);
        var (read, write) = Io.Stats(Dir);
        return new CgroupStats
        {
            CpuUsageNs = V2.Cpu.UsageNs(Dir),
            MemoryUsage = usage,
            InactiveFile = inactive,
            MemoryLimit = limit,
            Pids = CgroupStats.ReadNumber(Dir, "pids.current"),
            PidsLimit = CgroupStats.ReadLimit(Dir, "pids.max"),
            BlockRead = read,
            BlockWrite = write,
        };
    }

    /// <summary>
    /// SIGKILL goes through <c>cgroup.kill</c> (kernel 5.14+): the kernel kills every task, forks in flight
    /// included, and a frozen task too (v2's freezer lets fatal signals through), so neither a freeze nor a
    /// pid walk is needed. Other signals, and older kernels, walk cgroup.procs.
    /// </summary>
    public void Signal(int signal)
    {
        if (signal == Consts.SigKill && File.Exists(System.IO.Path.Combine(Dir, "cgroup.kill")))
        {
            CgroupFs.Write(Dir, "cgroup.kill", "1");
            return;
        }

        foreach (var pid in Pids())
        {
            Libc.kill(pid, signal);
        }
    }

    public void Destroy()
    {
        if (Directory.Exists(Dir) && Pids().Count > 0)
        {
            Signal(Consts.SigKill);
        }

        foreach (var d in new[] { Dir }.Concat(Enumerable.Reverse(_created)).Distinct())
        {
            CgroupFs.RemoveDir(d);
        }
    }
}
