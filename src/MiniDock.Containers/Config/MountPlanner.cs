using System.Security.Cryptography;

namespace MiniDock.Containers.Config;

/// <summary>
/// config.json's mounts, in Docker's order (moby daemon/oci_linux.go WithMounts): the defaults (/proc, /dev, …),
/// then the /etc files, then the user's binds and volumes sorted so that parents mount before children, then
/// the init. A default whose destination the user mounts over is left out, as are /dev/* when the user mounts
/// /dev. The image's <c>Volumes</c> become anonymous volumes unless a <c>-v</c> covers them
/// (https://github.com/opencontainers/image-spec/blob/main/conversion.md#optional-fields).
/// </summary>
internal static class MountPlanner
{
    public const string HostnameFile = "hostname";
    public const string HostsFile = "hosts";
    public const string ResolvConfFile = "resolv.conf";

    /// <summary>Parses <c>-v</c> and the image's volumes into one list (checks only, nothing is created).</summary>
    public static List<VolumeSpec> Plan(IReadOnlyList<string> cliVolumes, IReadOnlyList<string> imageVolumes)
    {
        var specs = new List<VolumeSpec>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in cliVolumes)
        {
            var v = VolumeSpec.Parse(raw);
            if (!seen.Add(v.Destination))
            {
                throw new ContainerException($"Duplicate mount point: {v.Destination}");
            }

            specs.Add(v);
        }

        foreach (var raw in imageVolumes)
        {
            if (!raw.StartsWith('/'))
            {
                throw new ContainerException($"invalid volume {raw} in the image config: the path must be absolute");
            }

            var dst = VolumeSpec.Clean(raw);
            if (dst != "/" && seen.Add(dst))
            {
                specs.Add(new VolumeSpec(VolumeKind.Anonymous, "", dst, false));
            }
        }

        // Parents first: a stable sort by depth keeps the user's order among siblings.
        return [.. specs.OrderBy(v => v.Destination.Count(c => c == '/'))];
    }

    /// <summary>Creates what the volumes need (bind sources, volume directories) and returns them as mounts.</summary>
    public static List<(OciMount Mount, MountPointInfo Info)> Materialize(IReadOnlyList<VolumeSpec> specs, BundleInputs inputs)
    {
        var result = new List<(OciMount, MountPointInfo)>(specs.Count);
        foreach (var v in specs)
        {
            string source;
            string? name = null;
            switch (v.Kind)
            {
                case VolumeKind.Bind:
                    source = v.Source;
                    if (!Path.Exists(source))
                    {
                        try
                        {
                            Directory.CreateDirectory(source);
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            throw new ContainerException($"error while creating mount source path '{source}': {e.Message}");
                        }
                    }

                    break;
                case VolumeKind.Named:
                    name = v.Source;
                    source = Volume(inputs, name, v.Destination);
                    break;
                default:
                    name = inputs.ExistingAnonymousVolumes is { } old && old.TryGetValue(v.Destination, out var prev)
                        ? prev
                        : RandomNumberGenerator.GetHexString(64, lowercase: true);
                    source = Volume(inputs, name, v.Destination);
                    break;
            }

            result.Add((
                new OciMount(v.Destination, "bind", source, ["rbind", "rprivate", v.ReadOnly ? "ro" : "rw"]),
                new MountPointInfo(v.Kind == VolumeKind.Bind ? "bind" : "volume", name, source, v.Destination, !v.ReadOnly, v.Kind == VolumeKind.Anonymous)));
        }

        return result;
    }

    /// <summary>The whole mounts list of config.json.</summary>
    public static List<OciMount> All(IReadOnlyList<OciMount> user, string bundleDir, bool readOnlyRoot, string? initBinary)
    {
        var userDst = new HashSet<string>(user.Select(m => m.Destination), StringComparer.Ordinal);
        var devMounted = userDst.Contains("/dev");
        var all = new List<OciMount>(DockerDefaults.Mounts.Length + 4 + user.Count);
        foreach (var m in DockerDefaults.Mounts)
        {
            if (!userDst.Contains(m.Destination) && !(devMounted && m.Destination.StartsWith("/dev/", StringComparison.Ordinal)))
            {
                all.Add(m);
            }
        }

        // Docker makes these read-only with --read-only (moby container.NetworkMounts: Writable = !ReadonlyRootfs).
        string[] etcOptions = readOnlyRoot ? ["rbind", "rprivate", "ro"] : ["rbind", "rprivate"];
        foreach (var (file, dst) in new[] { (HostnameFile, "/etc/hostname"), (HostsFile, "/etc/hosts"), (ResolvConfFile, "/etc/resolv.conf") })
        {
            if (!userDst.Contains(dst))
            {
                all.Add(new OciMount(dst, "bind", Path.Combine(bundleDir, file), etcOptions));
            }
        }

        all.AddRange(user);
        if (initBinary is not null)
        {
            all.Add(new OciMount(DockerDefaults.InitPath, "bind", initBinary, ["bind", "ro"]));
        }

        return all;
    }

    private static string Volume(BundleInputs inputs, string name, string destination)
    {
        var create = inputs.NamedVolume ?? throw new ContainerException($"volume for {destination}: named and anonymous volumes are not available here");
        return create(name);
    }
}
