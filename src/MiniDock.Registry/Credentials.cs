using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace MiniDock.Registry;

/// <summary>Where registry credentials come from; keyed by registry host as written in the reference (docker.io for Hub).</summary>
public interface ICredentialStore
{
    (string User, string Secret)? Get(string registryHost);
}

/// <summary>A fixed set of credentials, for tests and for <c>--username/--password</c> style callers.</summary>
public sealed class StaticCredentials : ICredentialStore
{
    private readonly Dictionary<string, (string User, string Secret)> _entries = new(StringComparer.OrdinalIgnoreCase);

    public StaticCredentials Add(string registryHost, string user, string secret)
    {
        _entries[registryHost] = (user, secret);
        return this;
    }

    public (string User, string Secret)? Get(string registryHost)
        => _entries.TryGetValue(registryHost, out var c) ? c : null;
}

/// <summary>
/// Reads Docker's client config, so <c>docker login</c> works for MiniDock too: <c>$DOCKER_CONFIG/config.json</c>,
/// else <c>~/.docker/config.json</c>. Order (as docker/cli configfile.GetAuthConfig): a per-registry
/// <c>credHelpers</c> entry, then <c>credsStore</c>, then inline <c>auths[…].auth</c> (base64 user:password).
/// Docker Hub's key is the legacy "https://index.docker.io/v1/".
/// </summary>
public sealed class DockerConfigCredentials : ICredentialStore
{
    private const string DockerHubLegacyKey = "https://index.docker.io/v1/";
    private readonly string? _path;
    private readonly Func<string, string, string?> _runHelper;

    /// <param name="configPath">The config.json to read; null means the Docker default locations.</param>
    /// <param name="runHelper">Runs a credential helper (name, stdin) and returns stdout; injectable for tests.</param>
    public DockerConfigCredentials(string? configPath = null, Func<string, string, string?>? runHelper = null)
    {
        _path = configPath ?? DefaultPath();
        _runHelper = runHelper ?? RunHelper;
    }

    /// <summary>$DOCKER_CONFIG/config.json, else ~/.docker/config.json.</summary>
    public static string? DefaultPath()
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(dir))
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(home))
            {
                home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            }

            if (string.IsNullOrEmpty(home))
            {
                return null;
            }

            dir = Path.Combine(home, ".docker");
        }

        return Path.Combine(dir, "config.json");
    }

    public (string User, string Secret)? Get(string registryHost)
    {
        if (_path is null || !File.Exists(_path))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(_path));
            var root = doc.RootElement;
            var isHub = registryHost is Reference.DockerHub or "index.docker.io" or Reference.DockerHubApiHost;
            var serverUrl = isHub ? DockerHubLegacyKey : registryHost;

            if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object)
            {
                foreach (var h in helpers.EnumerateObject())
                {
                    if (KeyMatches(h.Name, registryHost, isHub) && h.Value.GetString() is { Length: > 0 } helper)
                    {
                        return FromHelper(helper, serverUrl);
                    }
                }
            }

            if (root.TryGetProperty("credsStore", out var store) && store.GetString() is { Length: > 0 } storeName)
            {
                var fromStore = FromHelper(storeName, serverUrl);
                if (fromStore is not null)
                {
                    return fromStore;
                }
            }

            if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object)
            {
                foreach (var a in auths.EnumerateObject())
                {
                    if (!KeyMatches(a.Name, registryHost, isHub) || a.Value.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    if (a.Value.TryGetProperty("auth", out var auth) && auth.GetString() is { Length: > 0 } b64)
                    {
                        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
                        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                        if (colon > 0)
                        {
                            return (decoded[..colon], decoded[(colon + 1)..]);
                        }
                    }

                    if (a.Value.TryGetProperty("username", out var u) && a.Value.TryGetProperty("password", out var p)
                        && u.GetString() is { Length: > 0 } user && p.GetString() is { } pass)
                    {
                        return (user, pass);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or IOException or InvalidOperationException)
        {
            throw new RegistryException($"cannot read credentials from {_path}: {ex.Message}", null, ex);
        }

        return null;
    }

    /// <summary>Keys may be bare hosts or URLs ("https://host/v1/"); compare by host[:port].</summary>
    private static bool KeyMatches(string key, string registryHost, bool isHub)
    {
        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }

        if (isHub)
        {
            return host is Reference.DockerHub or "index.docker.io" or Reference.DockerHubApiHost;
        }

        return host.Equals(registryHost, StringComparison.OrdinalIgnoreCase);
    }

    private (string User, string Secret)? FromHelper(string helper, string serverUrl)
    {
        var output = _runHelper(helper, serverUrl);
        if (string.IsNullOrWhiteSpace(output))
        {
            return null;
        }

        using var doc = JsonDocument.Parse(output);
        var user = doc.RootElement.TryGetProperty("Username", out var u) ? u.GetString() : null;
        var secret = doc.RootElement.TryGetProperty("Secret", out var s) ? s.GetString() : null;
        return user is { Length: > 0 } && secret is not null ? (user, secret) : null;
    }

    /// <summary>
    /// docker-credential-helpers protocol: <c>docker-credential-NAME get</c>, server URL on stdin, JSON on
    /// stdout; a non-zero exit with "credentials not found" means no entry, not an error.
    /// </summary>
    private static string? RunHelper(string helper, string serverUrl)
    {
        var psi = new ProcessStartInfo("docker-credential-" + helper, "get")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            using var process = Process.Start(psi) ?? throw new RegistryException($"cannot start docker-credential-{helper}");
            process.StandardInput.Write(serverUrl);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                if ((stdout + stderr).Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                throw new RegistryException($"docker-credential-{helper} get failed: {(stderr + stdout).Trim()}");
            }

            return stdout;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RegistryException($"credential helper docker-credential-{helper} not found on PATH", null, ex);
        }
    }
}
