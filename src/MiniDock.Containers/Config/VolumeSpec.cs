namespace MiniDock.Containers.Config;

/// <summary>What a <c>-v</c> value names.</summary>
public enum VolumeKind
{
    /// <summary><c>/host/path:/ctr</c>: a host directory or file.</summary>
    Bind,

    /// <summary><c>name:/ctr</c>: a named volume, created on first use.</summary>
    Named,

    /// <summary><c>/ctr</c>: a fresh anonymous volume (as for the image's <c>Volumes</c>).</summary>
    Anonymous,
}

/// <summary>
/// One <c>-v</c> value, split the way Docker's Linux parser splits it
/// (https://github.com/moby/moby/blob/master/volume/mounts/linux_parser.go): <c>dst</c>, <c>src:dst</c> or
/// <c>src:dst:mode</c>, with mode <c>ro</c> or <c>rw</c> only. Paths are lexically cleaned.
/// </summary>
/// <param name="Kind">Bind, named or anonymous.</param>
/// <param name="Source">The host path (bind), the volume name (named), or "" (anonymous).</param>
/// <param name="Destination">The absolute path inside the container.</param>
/// <param name="ReadOnly">True for <c>:ro</c>.</param>
public sealed record VolumeSpec(VolumeKind Kind, string Source, string Destination, bool ReadOnly)
{
    public static VolumeSpec Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Any(p => p.Length == 0) || parts.Length > 3 || (parts.Length == 2 && parts[1] is "ro" or "rw"))
        {
            throw new ContainerException($"invalid volume specification: '{text}'");
        }

        var readOnly = false;
        if (parts.Length == 3)
        {
            readOnly = parts[2] switch
            {
                "ro" => true,
                "rw" => false,
                _ => throw new ContainerException($"invalid volume specification: '{text}': invalid mode: {parts[2]} (only ro and rw are supported)"),
            };
        }

        var dst = parts[^(parts.Length == 3 ? 2 : 1)];
        if (!dst.StartsWith('/'))
        {
            throw new ContainerException($"invalid volume specification: '{text}': invalid mount path: '{dst}' mount path must be absolute");
        }

        dst = Clean(dst);
        if (dst == "/")
        {
            throw new ContainerException($"invalid volume specification: '{text}': destination can't be '/'");
        }

        if (parts.Length == 1)
        {
            return new VolumeSpec(VolumeKind.Anonymous, "", dst, false);
        }

        var src = parts[0];
        if (src.StartsWith('/'))
        {
            return new VolumeSpec(VolumeKind.Bind, Clean(src), dst, readOnly);
        }

        if (!ContainerName.IsValid(src))
        {
            throw new ContainerException(
                $"create {src}: \"{src}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
        }

        return new VolumeSpec(VolumeKind.Named, src, dst, readOnly);
    }

    /// <summary>Lexical clean of an absolute path (Go's path.Clean): no "//", ".", ".." or trailing "/".</summary>
    internal static string Clean(string path) => "/" + MiniDock.Runtime.Mounts.SecureJoin.Clean(path);
}
