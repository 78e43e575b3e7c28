namespace MiniDock.Containers.Volumes;

/// <summary>
/// Volume names as Docker's local driver allows them: <c>^[a-zA-Z0-9][a-zA-Z0-9_.-]+$</c>
/// (moby daemon/names: RestrictedNamePattern), so at least two characters. A valid name is also one path
/// component that is neither "." nor "..", and never starts with the '.' of this store's temporary entries.
/// </summary>
internal static class VolumeName
{
    public static bool IsValid(string? name)
    {
        if (name is null || name.Length < 2 || !char.IsAsciiLetterOrDigit(name[0]))
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

    /// <summary>Throws Docker's message for an invalid name.</summary>
    public static void Check(string name)
    {
        if (!IsValid(name))
        {
            throw new VolumeException($"create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path");
        }
    }
}
