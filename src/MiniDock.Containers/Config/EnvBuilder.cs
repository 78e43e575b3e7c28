namespace MiniDock.Containers.Config;

/// <summary>
/// process.env as Docker builds it (moby container.CreateDaemonEnvironment and ReplaceOrAppendEnvValues):
/// <c>PATH</c> (Docker's default), <c>HOSTNAME</c>, <c>TERM=xterm</c> with a tty; then the image's Env, the
/// env files and <c>-e</c>, each replacing a variable of the same name in place or appending it; an entry with
/// no <c>=</c> removes the variable; finally <c>HOME</c> from passwd when nothing set it
/// (https://github.com/opencontainers/image-spec/blob/main/conversion.md#verbatim-fields).
/// </summary>
internal static class EnvBuilder
{
    public static List<string> Build(
        string hostname,
        bool tty,
        IReadOnlyList<string> imageEnv,
        IReadOnlyList<string> envFiles,
        IReadOnlyList<string> cliEnv,
        IReadOnlyDictionary<string, string?>? callerEnv,
        string? home)
    {
        var env = new List<string?> { DockerDefaults.Path, "HOSTNAME=" + hostname };
        if (tty)
        {
            env.Add("TERM=xterm");
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < env.Count; i++)
        {
            index[Key(env[i]!)] = i;
        }

        Apply(env, index, imageEnv);
        foreach (var path in envFiles)
        {
            Apply(env, index, EnvFile.Read(path, callerEnv));
        }

        var cli = new List<string>(cliEnv.Count);
        foreach (var e in cliEnv)
        {
            var eq = e.IndexOf('=');
            if (eq == 0 || e.Length == 0)
            {
                throw new ContainerException($"invalid environment variable: {e}");
            }

            // -e NAME: the caller's value; unset there, NAME stays bare and so removes the variable (as Docker).
            cli.Add(eq > 0 ? e : EnvFile.Lookup(callerEnv, e) is { } v ? e + "=" + v : e);
        }

        Apply(env, index, cli);
        var result = new List<string>(env.Count + 1);
        foreach (var e in env)
        {
            if (e is not null)
            {
                result.Add(e);
            }
        }

        if (!index.ContainsKey("HOME") || env[index["HOME"]] is null)
        {
            result.Add("HOME=" + (string.IsNullOrEmpty(home) ? "/" : home));
        }

        return result;
    }

    private static void Apply(List<string?> env, Dictionary<string, int> index, IEnumerable<string> entries)
    {
        foreach (var e in entries)
        {
            var hasValue = e.Contains('=');
            var key = Key(e);
            if (index.TryGetValue(key, out var i) && env[i] is not null)
            {
                env[i] = hasValue ? e : null;
            }
            else if (hasValue)
            {
                index[key] = env.Count;
                env.Add(e);
            }
        }
    }

    private static string Key(string e)
    {
        var eq = e.IndexOf('=');
        return eq < 0 ? e : e[..eq];
    }
}
