namespace MiniDock.Runtime;

/// <summary>An error meant for the user: one clear line, exit status 1 (runc's convention).</summary>
public sealed class RuntimeError(string message) : Exception(message);
