using MiniDock.Runtime;
using MiniDock.Runtime.Security;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--cap-add</c>, <c>--cap-drop</c> and <c>--security-opt no-new-privileges</c>, as Docker reads them
/// (https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities): Docker's default set,
/// minus the drops (ALL drops every one), plus the adds (ALL adds every one the kernel knows); names with or without
/// CAP_, any case; an unknown name is an error before anything is created.
/// </summary>
public static class CapabilityFlags
{
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string> add, IReadOnlyList<string> drop)
    {
        if (add.Count == 0 && drop.Count == 0)
        {
            return DockerDefaults.Capabilities;
        }

        var set = new List<string>(DockerDefaults.Capabilities);
        foreach (var d in drop)
        {
            if (IsAll(d))
            {
                set.Clear();
            }
            else
            {
                set.Remove(Canonical(d));
            }
        }

        foreach (var a in add)
        {
            foreach (var name in IsAll(a) ? Capabilities.Names : [Canonical(a)])
            {
                if (!set.Contains(name))
                {
                    set.Add(name);
                }
            }
        }

        return set;
    }

    /// <summary>True for <c>no-new-privileges</c> or <c>no-new-privileges=true</c>; other options are refused clearly.</summary>
    public static bool NoNewPrivileges(IReadOnlyList<string> securityOpts)
    {
        var on = false;
        foreach (var opt in securityOpts)
        {
            var (key, value) = opt.IndexOfAny([':', '=']) is var i and > 0 ? (opt[..i], opt[(i + 1)..]) : (opt, "true");
            if (key != "no-new-privileges")
            {
                throw new ContainerException($"--security-opt {opt}: not supported yet (only no-new-privileges)");
            }

            on = value switch
            {
                "true" => true,
                "false" => false,
                _ => throw new ContainerException($"--security-opt {opt}: want no-new-privileges[=true|false]"),
            };
        }

        return on;
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
