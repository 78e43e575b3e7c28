namespace MiniDock.Containers.Copy;

/// <summary>
/// A <c>cp</c> that cannot be done as asked, with Docker's wording where Docker has one ("Could not find the file
/// /x in container", "cannot overwrite directory …"), so the CLI prints the message as the one line of its error.
/// </summary>
public sealed class CopyException : Exception
{
    public CopyException(string message)
        : base(message)
    {
    }

    /// <summary>Wraps a failed system call or I/O error met while copying; <see cref="Exception.InnerException"/> keeps it.</summary>
    public CopyException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
