namespace MiniDock.Containers.Config;

/// <summary>
/// A user-facing failure of a container command: one line on stderr and Docker's exit status
/// (125 when the error is MiniDock's or the user's input, before the container's process runs;
/// see https://docs.docker.com/engine/containers/run/#exit-status).
/// </summary>
public sealed class ContainerException(string message, int exitCode = 125) : Exception(message)
{
    /// <summary>The exit status the CLI returns for this failure (Docker's: 125, 126, 127).</summary>
    public int ExitCode { get; } = exitCode;
}
