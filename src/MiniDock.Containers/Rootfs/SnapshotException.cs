namespace MiniDock.Containers.Rootfs;

/// <summary>A rootfs that cannot be prepared, or a storage driver that does not exist; the message is one line for the user.</summary>
public sealed class SnapshotException(string message) : Exception(message);
