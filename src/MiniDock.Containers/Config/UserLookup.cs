namespace MiniDock.Containers.Config;

/// <summary>
/// <c>exec -u</c>: the same resolution as <c>run -u</c> (<see cref="UserResolver"/>), against a running container's
/// rootfs, read safely (the files are the container's and may be hostile).
/// </summary>
public static class UserLookup
{
    public static (uint Uid, uint Gid, IReadOnlyList<uint> AdditionalGids) Resolve(string rootPath, string spec)
    {
        using var files = new RootfsFiles(rootPath);
        var u = UserResolver.Resolve(spec, files);
        return (u.Uid, u.Gid, u.AdditionalGids);
    }
}
