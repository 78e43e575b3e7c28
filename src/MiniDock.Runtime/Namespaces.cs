using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime;

/// <summary>
/// linux.namespaces (config-linux.md#namespaces): which to create (unshare) and which to join
/// (setns by path). unshare and setns act on the calling thread only in a threaded process, so the
/// engine applies them on a dedicated thread that then posix_spawns the init (design-notes §3).
/// </summary>
public sealed class Namespaces
{
    private static readonly Dictionary<string, int> Flags = new()
    {
        ["pid"] = Clone.NewPid, ["network"] = Clone.NewNet, ["mount"] = Clone.NewNs, ["ipc"] = Clone.NewIpc,
        ["uts"] = Clone.NewUts, ["user"] = Clone.NewUser, ["cgroup"] = Clone.NewCgroup, ["time"] = Clone.NewTime,
    };

    private Namespaces()
    {
    }

    /// <summary>Flags to unshare on the spawning thread (cgroup excluded: the init unshares it once placed in its cgroup).</summary>
    public int Unshare { get; private init; }

    /// <summary>Namespaces to join, mount last (setns into a mount namespace changes the root used to open the others).</summary>
    public IReadOnlyList<(string Type, string Path, int Flag)> Join { get; private init; } = [];

    public bool NewCgroup { get; private init; }

    /// <summary>A user namespace is to be created (no path): linux.uidMappings/gidMappings are written for it.</summary>
    public bool NewUser => (Unshare & Clone.NewUser) != 0;

    /// <summary>
    /// A user namespace is created or joined: then every namespace is entered by the nsexec
    /// constructor in the child (user first, so the others are owned by it), not on a thread of ours.
    /// </summary>
    public bool UsesNsexec => Has("user");

    public string? CgroupPath { get; private init; }

    public bool Has(string type) => Types.Contains(type);

    private HashSet<string> Types { get; init; } = [];

    public static Namespaces Parse(IReadOnlyList<NamespaceSpec>? list)
    {
        var unshare = 0;
        var join = new List<(string, string, int)>();
        var types = new HashSet<string>();
        var newCgroup = false;
        string? cgroupPath = null;
        foreach (var ns in list ?? [])
        {
            if (!Flags.TryGetValue(ns.Type, out var flag))
            {
                throw new RuntimeError($"unknown namespace type {ns.Type}");
            }

            if (!types.Add(ns.Type))
            {
                throw new RuntimeError($"duplicate namespace {ns.Type}");
            }

            if (ns.Type == "time")
            {
                throw new RuntimeError("time namespaces are not supported yet");
            }

            if (ns.Type == "cgroup")
            {
                newCgroup = string.IsNullOrEmpty(ns.Path);
                cgroupPath = ns.Path;
                continue;
            }

            if (string.IsNullOrEmpty(ns.Path))
            {
                unshare |= flag;
            }
            else
            {
                if (!File.Exists(ns.Path))
                {
                    throw new RuntimeError($"namespace {ns.Type} path {ns.Path} does not exist");
                }

                join.Add((ns.Type, ns.Path, flag));
            }
        }

        return new Namespaces
        {
            Unshare = unshare,
            // The user namespace first (the others are then entered with its privileges), mount last.
            Join = join.OrderBy(j => j.Item1 == "user" ? 0 : j.Item1 == "mount" ? 2 : 1).ToList(),
            NewCgroup = newCgroup,
            CgroupPath = string.IsNullOrEmpty(cgroupPath) ? null : cgroupPath,
            Types = types,
        };
    }

    /// <summary>
    /// On the calling thread: join the listed namespaces, then unshare the new ones. Must run on a
    /// thread of its own that does nothing afterwards but posix_spawn.
    /// </summary>
    public void ApplyToThread(IReadOnlyList<int> joinFds)
    {
        // setns(mnt) needs a private fs_struct; unshare(NEWNS) implies it.
        Sys.Unshare(Clone.Fs);
        for (var i = 0; i < Join.Count; i++)
        {
            Sys.Setns(joinFds[i], Join[i].Flag, $"{Join[i].Type} {Join[i].Path}");
        }

        if (Unshare != 0)
        {
            Sys.Unshare(Unshare);
        }
    }

    public IReadOnlyList<int> OpenJoinFds() => Join.Select(j => Sys.Open(j.Path, OpenFlags.RdOnly)).ToList();

    /// <summary>
    /// For the nsexec path: the namespaces to join, as (path, flag), in the order nsexec.c joins
    /// them. A cgroup namespace path goes here too: from inside a new user namespace the init could
    /// no longer join one owned by the host's.
    /// </summary>
    public IReadOnlyList<(string Path, int Flag)> NsexecJoins()
    {
        var list = Join.Select(j => (j.Path, j.Flag)).ToList();
        if (CgroupPath is { } cg)
        {
            list.Insert(list.FindIndex(j => j.Flag != Clone.NewUser) is var i and >= 0 ? i : list.Count, (cg, Clone.NewCgroup));
        }

        return list;
    }
}
