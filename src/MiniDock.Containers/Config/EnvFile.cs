using System.Text;

namespace MiniDock.Containers.Config;

/// <summary>
/// <c>--env-file</c> as Docker reads it (https://github.com/docker/cli/blob/master/opts/envfile.go): one variable a
/// line, blank and <c>#</c> lines skipped, <c>NAME=value</c> passed through verbatim (no quote stripping, no
/// trimming of the value), and a bare <c>NAME</c> takes the caller's value or is left out.
/// </summary>
public static class EnvFile
{
    /// <summary>Reads <paramref name="path"/>; <paramref name="callerEnv"/> null means this process's environment.</summary>
    public static List<string> Read(string path, IReadOnlyDictionary<string, string?>? callerEnv)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainerException($"open {path}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file or directory" : e.Message)}");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ContainerException($"env file {path} contains invalid utf8 bytes");
        }

        var result = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (i == 0 && raw.StartsWith('\uFEFF'))
            {
                raw = raw[1..];
            }

            var line = raw.TrimStart();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var eq = line.IndexOf('=');
            var name = eq < 0 ? line : line[..eq];
            if (name.Any(char.IsWhiteSpace))
            {
                throw new ContainerException($"env file {path} line {i + 1}: variable '{name}' contains whitespaces");
            }

            if (name.Length == 0)
            {
                throw new ContainerException($"env file {path} line {i + 1}: no variable name on line '{line}'");
            }

            if (eq >= 0)
            {
                result.Add(line);
            }
            else if (Lookup(callerEnv, name) is { } value)
            {
                result.Add(name + "=" + value);
            }
        }

        return result;
    }

    internal static string? Lookup(IReadOnlyDictionary<string, string?>? env, string name)
        => env is null ? Environment.GetEnvironmentVariable(name) : env.TryGetValue(name, out var v) ? v : null;
}
