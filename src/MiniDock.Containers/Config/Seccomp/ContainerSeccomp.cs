using MiniDock.Runtime;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Config.Seccomp;

/// <summary>
/// A container's linux.seccomp, decided as moby's daemon WithSeccomp decides it: none with <c>seccomp=unconfined</c>;
/// none with <c>--privileged</c> unless a profile was named; the user's profile; else Docker's default profile. Every
/// profile is resolved against the container's final capability set (after <c>--cap-add</c>, <c>--cap-drop</c> and
/// <c>--privileged</c>), so <c>--cap-add SYS_ADMIN</c> also lets mount(2) through, as in Docker.
/// </summary>
internal static class ContainerSeccomp
{
    /// <summary>The filter for a container, or null to run it unconfined.</summary>
    /// <exception cref="ContainerException">The user's profile is invalid (it is compiled here, so that it fails before anything is created).</exception>
    public static SeccompSpec? For(SecurityOptions security, IReadOnlyList<string> caps, bool privileged, string? arch = null, KernelVersion? kernel = null)
    {
        arch ??= ProfileResolver.HostArch;
        switch (security.Seccomp)
        {
            case SeccompMode.Unconfined:
            case SeccompMode.Default when privileged:
                return null;
            case SeccompMode.Custom:
                var spec = ProfileResolver.Resolve(ProfileParser.Parse(security.SeccompProfile!), caps, arch, kernel ?? ProfileResolver.HostKernel);
                if (spec is not null)
                {
                    try
                    {
                        SeccompFilter.Compile(spec);
                    }
                    catch (RuntimeError e)
                    {
                        throw new ContainerException($"invalid seccomp profile: {e.Message}");
                    }
                }

                return spec;
            default:
                return ProfileResolver.Resolve(DefaultProfile.Profile, caps, arch, kernel ?? ProfileResolver.HostKernel);
        }
    }
}
