using MiniDock.Native;
using MiniDock.Runtime;
using MiniDock.Runtime.Security;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--cap-add</c>, <c>--cap-drop</c> and <c>--privileged</c>, as Docker reads them
/// (https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities): Docker's default set,
/// minus the drops (ALL drops every one), plus the adds (ALL adds every one there is, <see cref="Grantable"/>); names
/// with or without CAP_, any case; an unknown name is an error before anything is created. <c>--privileged</c> gets
/// every capability whatever the other flags say (moby's caps.TweakCapabilities). <c>--security-opt</c> is <see cref="SecurityOpts"/>.
/// </summary>
public static class CapabilityFlags
{
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string> add, IReadOnlyList<string> drop, bool privileged = false)
    {
        if (privileged)
        {
            // Names are still checked: Docker refuses an unknown one with --privileged too.
            foreach (var name in add.Concat(drop).Where(n => !IsAll(n)))
            {
                Canonical(name);
            }

            return Grantable();
        }

        if (add.Count == 0 && drop.Count == 0)
        {
            return DockerDefaults.Capabilities;
        }

        // moby's TweakCapabilities: --cap-add ALL is every capability but the drops; --cap-drop ALL keeps only the
        // adds; otherwise the defaults minus the drops, plus the adds (an add beats a drop of the same name).
        var drops = drop.Where(d => !IsAll(d)).Select(Canonical).ToHashSet();
        var adds = add.Where(a => !IsAll(a)).Select(Canonical).ToList();
        IEnumerable<string> set = add.Any(IsAll) ? Grantable().Where(c => !drops.Contains(c))
            : drop.Any(IsAll) ? adds
            : DockerDefaults.Capabilities.Where(c => !drops.Contains(c)).Concat(adds);
        return [.. set.Distinct()];
    }

    /// <summary>
    /// <c>exec --privileged</c>: the exec'd process gets every grantable capability in each set the container's own
    /// process has (Docker's execConfig.Privileged); the container's seccomp profile still applies, as in Docker.
    /// </summary>
    public static CapabilitiesSpec? Privileged(CapabilitiesSpec? container)
    {
        List<string> all = [.. Grantable()];
        return new CapabilitiesSpec
        {
            Bounding = all,
            Effective = all,
            Permitted = all,
            Inheritable = container?.Inheritable,
            Ambient = container?.Ambient is null ? null : all,
        };
    }

    /// <summary>
    /// "Every capability": those this kernel has (cap_last_cap) that MiniDock can pass on, i.e. that are in our own
    /// bounding set. Docker lists the kernel's, which fails the start where the engine itself runs with fewer (a
    /// nested or restricted host: capset(2) cannot grant a capability outside the bounding set).
    /// </summary>
    public static IReadOnlyList<string> Grantable()
    {
        var last = Math.Min(Caps.LastCap(), Capabilities.Names.Length - 1);
        var bounding = OwnBoundingSet();
        return [.. Capabilities.Names.Take(last + 1).Where((_, bit) => (bounding & (1UL << bit)) != 0)];
    }

    private static ulong OwnBoundingSet()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("CapBnd:", StringComparison.Ordinal))
                {
                    return ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
        }

        return ulong.MaxValue;
    }

    private static bool IsAll(string name) => string.Equals(name, "ALL", StringComparison.OrdinalIgnoreCase);

    private static string Canonical(string name)
    {
        try
        {
            return Capabilities.Names[Capabilities.Number(name)];
        }
        catch (RuntimeError)
        {
            throw new ContainerException($"unknown capability: \"{name}\"");
        }
    }
}
