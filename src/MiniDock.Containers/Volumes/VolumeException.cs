namespace MiniDock.Containers.Volumes;

/// <summary>A volume operation refused (bad name, missing, in use); the message is Docker's wording, one line.</summary>
public sealed class VolumeException(string message) : Exception(message);
