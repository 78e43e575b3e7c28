using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V1;

/// <summary>
/// v1 devices controller: the spec's rules in order, then the devices every container gets
/// (config-linux.md#default-devices), as runc does. Nodes from linux.devices are created but not
/// allowed here: resources.devices is the allowlist, so a caller allows them explicitly.
/// </summary>
internal static class Devices
{
    /// <summary>null, zero, full, tty, random, urandom, console, ptmx and the devpts slaves.</summary>
    public static readonly (string Type, long Major, long Minor)[] DefaultAllowed =
    [
        ("c", 1, 3), ("c", 1, 5), ("c", 1, 7), ("c", 5, 0), ("c", 1, 8), ("c", 1, 9), ("c", 5, 1), ("c", 5, 2), ("c", 136, -1),
    ];

    public static void Apply(string dir, IReadOnlyList<DeviceCgroupRule>? rules, IReadOnlyList<DeviceSpec>? extra)
    {
        if (rules is null || rules.Count == 0)
        {
            return;
        }

        foreach (var r in rules)
        {
            var rule = string.IsNullOrEmpty(r.Type) || r.Type == "a" ? "a" : CgroupFs.DeviceRule(r.Type, r.Major, r.Minor, r.Access);
            CgroupFs.Write(dir, r.Allow ? "devices.allow" : "devices.deny", rule);
        }

        foreach (var (type, major, minor) in DefaultAllowed)
        {
            CgroupFs.Write(dir, "devices.allow", CgroupFs.DeviceRule(type, major, minor, "rwm"));
        }
    }
}
