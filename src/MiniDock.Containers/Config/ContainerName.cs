namespace MiniDock.Containers.Config;

/// <summary>
/// Container (and local volume) names as Docker allows them: <c>^[a-zA-Z0-9][a-zA-Z0-9_.-]+$</c>, so at least two
/// characters (https://github.com/moby/moby/blob/master/daemon/names/names.go).
/// </summary>
public static class ContainerName
{
    public static void Validate(string name)
    {
        if (!IsValid(name))
        {
            throw new ContainerException($"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }
    }

    internal static bool IsValid(string name)
    {
        if (name.Length < 2 || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name.AsSpan(1))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
