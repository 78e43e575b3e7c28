using MiniDock.Containers.Config;

namespace MiniDock.Containers.Networks.Cni;

/// <summary>
/// Where the CNI plugin binaries are: <c>CNI_PATH</c> when set (the CNI spec's own variable), else Debian's
/// /usr/lib/cni (package containernetworking-plugins) and the upstream default /opt/cni/bin.
/// </summary>
public static class CniPlugins
{
    public const string Package = "containernetworking-plugins";

    public static IReadOnlyList<string> Dirs()
        => Environment.GetEnvironmentVariable("CNI_PATH") is { Length: > 0 } p
            ? p.Split(':', StringSplitOptions.RemoveEmptyEntries)
            : ["/usr/lib/cni", "/opt/cni/bin"];

    /// <summary>The plugin's path; a missing one is one line that names the package to install.</summary>
    public static string Find(string type)
    {
        foreach (var dir in Dirs())
        {
            var path = Path.Combine(dir, type);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new ContainerException($"bridge networking needs the CNI plugins: '{type}' not found in {string.Join(':', Dirs())} (apt-get install {Package}, or use --network none)");
    }
}
