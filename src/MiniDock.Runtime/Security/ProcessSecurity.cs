using MiniDock.Native;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Security;

/// <summary>
/// The last steps before a container process runs, shared by the init and by exec, in runc's
/// order: seccomp first when no_new_privs is off (installing a filter then needs CAP_SYS_ADMIN,
/// which the user switch drops), the bounding set, the user and groups, the other capability
/// sets, umask, no_new_privs, and seccomp last when no_new_privs is on (so the filter sees as
/// few of the runtime's own syscalls as possible). All per-thread: the caller's other threads keep
/// their credentials (design-notes §3).
/// </summary>
public static class ProcessSecurity
{
    public static void Apply(ProcessSpec process, Capabilities.Sets caps, int lastCap, CompiledFilter? seccomp)
    {
        if (seccomp is not null && !process.NoNewPrivileges)
        {
            SeccompFilter.Install(seccomp);
        }

        var user = process.User;
        Capabilities.ApplyAroundUserSwitch(caps, lastCap, () =>
        {
            Sys.SetGroups(user.AdditionalGids ?? []);
            Sys.SetResGid(user.Gid);
            Sys.SetResUid(user.Uid);
        });
        Libc.umask(user.Umask ?? 0x12 /* 022 */);
        if (process.NoNewPrivileges)
        {
            Sys.Prctl(Prctl.SetNoNewPrivs, 1);
        }
    }

    /// <summary>With no_new_privs on, the filter goes on as the very last step before exec.</summary>
    public static void InstallLateSeccomp(ProcessSpec process, CompiledFilter? seccomp)
    {
        if (seccomp is not null && process.NoNewPrivileges)
        {
            SeccompFilter.Install(seccomp);
        }
    }
}
