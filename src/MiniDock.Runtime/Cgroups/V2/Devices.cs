using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Cgroups.V2;

/// <summary>
/// cgroup v2 device controller: v2 has no devices.allow; the kernel runs the <c>BPF_PROG_TYPE_CGROUP_DEVICE</c>
/// programs attached to the cgroup and its ancestors on every mknod and device open, and all must allow
/// (Documentation/admin-guide/cgroup-v2.rst, "Device controller"). Without one, a container with Docker's default
/// CAP_MKNOD could mknod the host's disk and read it. The list is the one v1 writes
/// (<see cref="V1.Devices"/>): the spec's rules in order, then the devices every container gets
/// (config-linux.md#default-devices), compiled by <see cref="DeviceFilter"/>.
/// </summary>
internal static class Devices
{
    /// <summary>
    /// Loads the program and attaches it with BPF_F_ALLOW_MULTI, then detaches whatever was attached to this cgroup
    /// before (an earlier Set's program: being one of several that must all allow, an old stricter list would
    /// otherwise keep denying). The new program goes on first so that the cgroup is never left unfiltered. No rules
    /// (an <c>update</c> that does not touch devices) leaves the attached program alone, as v1 leaves its files.
    /// </summary>
    public static void Apply(string dir, IReadOnlyList<DeviceCgroupRule>? rules)
    {
        if (rules is null || rules.Count == 0)
        {
            return;
        }

        var all = rules.Concat(V1.Devices.DefaultAllowed.Select(d => new DeviceCgroupRule
        {
            Allow = true, Type = d.Type, Major = d.Major, Minor = d.Minor, Access = "rwm",
        }));
        var insns = DeviceFilter.Build(all);

        var prog = -1;
        var cg = -1;
        try
        {
            prog = Bpf.LoadProgram(Bpf.ProgTypeCgroupDevice, Bpf.AttachCgroupDevice, insns, DeviceFilter.License);
            cg = Sys.Open(dir, OpenFlags.RdOnly | OpenFlags.Directory);
            var old = Bpf.QueryAttached(cg, Bpf.AttachCgroupDevice);
            Bpf.Attach(cg, prog, Bpf.AttachCgroupDevice, Bpf.FAllowMulti);
            foreach (var id in old)
            {
                var fd = Bpf.ProgramFdById(id);
                try
                {
                    Bpf.Detach(cg, fd, Bpf.AttachCgroupDevice);
                }
                finally
                {
                    Sys.Close(fd);
                }
            }
        }
        catch (SysException e)
        {
            throw new RuntimeError($"cgroup v2 device filter on {dir}: {e.Message}");
        }
        finally
        {
            // The cgroup holds the attached program; our fds are not needed to keep it there.
            Sys.Close(prog);
            Sys.Close(cg);
        }
    }
}
