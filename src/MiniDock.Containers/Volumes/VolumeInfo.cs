namespace MiniDock.Containers.Volumes;

/// <summary>
/// One local volume as <c>docker volume inspect</c> describes it: its name, the host directory a container
/// mounts (<c>DATA/volumes/NAME/_data</c>), when it was made (UTC, whole seconds) and whether it was anonymous
/// (made for a bare <c>-v /path</c>; Docker 23+ prunes only those unless asked for all).
/// </summary>
public sealed record VolumeInfo(string Name, string Mountpoint, DateTime CreatedAt, bool Anonymous);
