namespace MiniDock.Containers.Config;

/// <summary>
/// One user-visible mount of a container, as <c>inspect</c> shows it under <c>Mounts</c>: the <c>-v</c> binds
/// and the named and anonymous volumes (not the default /proc, /dev, … nor the /etc files). Kept so that
/// <c>restart</c> can reuse the same anonymous volumes and <c>rm -v</c> can remove them.
/// </summary>
/// <param name="Type"><c>bind</c> or <c>volume</c>.</param>
/// <param name="Name">The volume's name (64 hex for an anonymous one); null for a bind.</param>
/// <param name="Source">The host path mounted.</param>
/// <param name="Destination">The path inside the container (lexically cleaned, absolute).</param>
/// <param name="ReadWrite">False for <c>:ro</c>.</param>
/// <param name="Anonymous">True for <c>-v /ctr</c> and the image's <c>Volumes</c>.</param>
public sealed record MountPointInfo(string Type, string? Name, string Source, string Destination, bool ReadWrite, bool Anonymous);
