using MiniDock.Native;

namespace MiniDock.Runtime.Mounts;

/// <summary>
/// The options of one config.json mount split the way mount(2) wants them: flags to set, flags to
/// clear, a propagation change (a separate mount call), and the rest as the filesystem's data string.
/// Names as in mount(8) and runc's parser.
/// </summary>
public sealed record MountOptions(ulong Flags, ulong Propagation, string Data, bool Bind, bool Recursive)
{
    private static readonly Dictionary<string, (bool Clear, ulong Flag)> FlagNames = new()
    {
        ["defaults"] = (false, 0), ["ro"] = (false, MountFlags.RdOnly), ["rw"] = (true, MountFlags.RdOnly),
        ["suid"] = (true, MountFlags.NoSuid), ["nosuid"] = (false, MountFlags.NoSuid),
        ["dev"] = (true, MountFlags.NoDev), ["nodev"] = (false, MountFlags.NoDev),
        ["exec"] = (true, MountFlags.NoExec), ["noexec"] = (false, MountFlags.NoExec),
        ["sync"] = (false, MountFlags.Synchronous), ["async"] = (true, MountFlags.Synchronous),
        ["dirsync"] = (false, MountFlags.DirSync), ["remount"] = (false, MountFlags.Remount),
        ["mand"] = (false, MountFlags.Mandlock), ["nomand"] = (true, MountFlags.Mandlock),
        ["atime"] = (true, MountFlags.NoAtime), ["noatime"] = (false, MountFlags.NoAtime),
        ["diratime"] = (true, MountFlags.NoDirAtime), ["nodiratime"] = (false, MountFlags.NoDirAtime),
        ["relatime"] = (false, MountFlags.RelAtime), ["norelatime"] = (true, MountFlags.RelAtime),
        ["strictatime"] = (false, MountFlags.StrictAtime), ["nostrictatime"] = (true, MountFlags.StrictAtime),
        ["lazytime"] = (false, MountFlags.LazyTime), ["nolazytime"] = (true, MountFlags.LazyTime),
        ["nosymfollow"] = (false, MountFlags.NoSymFollow), ["symfollow"] = (true, MountFlags.NoSymFollow),
        ["silent"] = (false, MountFlags.Silent), ["loud"] = (true, MountFlags.Silent),
        ["rro"] = (false, MountFlags.RdOnly),
    };

    private static readonly Dictionary<string, ulong> PropagationNames = new()
    {
        ["private"] = MountFlags.Private, ["rprivate"] = MountFlags.Private | MountFlags.Rec,
        ["shared"] = MountFlags.Shared, ["rshared"] = MountFlags.Shared | MountFlags.Rec,
        ["slave"] = MountFlags.Slave, ["rslave"] = MountFlags.Slave | MountFlags.Rec,
        ["unbindable"] = MountFlags.Unbindable, ["runbindable"] = MountFlags.Unbindable | MountFlags.Rec,
    };

    public static MountOptions Parse(IEnumerable<string>? options, string? type)
    {
        ulong flags = 0;
        ulong prop = 0;
        var bind = type == "bind";
        var rec = false;
        var data = new List<string>();
        foreach (var o in options ?? [])
        {
            if (o is "bind")
            {
                bind = true;
            }
            else if (o is "rbind")
            {
                bind = true;
                rec = true;
            }
            else if (FlagNames.TryGetValue(o, out var f))
            {
                flags = f.Clear ? flags & ~f.Flag : flags | f.Flag;
            }
            else if (PropagationNames.TryGetValue(o, out var p))
            {
                prop |= p;
            }
            else if (o is "tmpcopyup" or "rrw" or "rsuid" or "rdev" or "rexec")
            {
                // Copy-up and recursive "clear" options: nothing to do for a fresh mount.
            }
            else if (o is "idmap" or "ridmap")
            {
                throw new RuntimeError("idmapped mounts are not supported yet");
            }
            else
            {
                data.Add(o);
            }
        }

        return new MountOptions(flags, prop, string.Join(',', data), bind, rec);
    }

    /// <summary>Parses a rootfsPropagation value.</summary>
    public static ulong ParsePropagation(string value) => PropagationNames.TryGetValue(value, out var p)
        ? p
        : throw new RuntimeError($"invalid rootfsPropagation {value}");
}
