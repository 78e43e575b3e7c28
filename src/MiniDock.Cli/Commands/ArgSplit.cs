namespace MiniDock.Cli.Commands;

/// <summary>
/// Docker stops reading its own flags at the first positional word of <c>run IMAGE CMD...</c> and
/// <c>exec CONTAINER CMD...</c>: everything after belongs to the container's command (<c>run alpine ls -la</c>).
/// System.CommandLine would read <c>-la</c> as its own option, so the command line is split here first.
/// </summary>
internal static class ArgSplit
{
    /// <summary>
    /// Returns the tokens up to and including the first positional (after <paramref name="skip"/> leading command
    /// words) and the rest. <paramref name="valueOptions"/> are the options that take a value in the next token.
    /// </summary>
    public static (string[] Head, string[] Tail) Split(string[] args, int skip, IReadOnlySet<string> valueOptions)
    {
        for (var i = skip; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                return i + 1 < args.Length ? ([.. args[..i], args[i + 1]], args[(i + 2)..]) : (args[..i], []);
            }

            if (a.Length > 1 && a[0] == '-')
            {
                if (a.Contains('='))
                {
                    continue;
                }

                if (valueOptions.Contains(a))
                {
                    i++;
                    continue;
                }

                // Clustered short flags ("-it", "-de", "-eFOO=1"): a value option inside takes the rest or the next token.
                if (a[1] != '-')
                {
                    for (var j = 1; j < a.Length; j++)
                    {
                        if (valueOptions.Contains("-" + a[j]))
                        {
                            if (j == a.Length - 1)
                            {
                                i++;
                            }

                            break;
                        }
                    }
                }

                continue;
            }

            return (args[..(i + 1)], args[(i + 1)..]);
        }

        return (args, []);
    }
}
