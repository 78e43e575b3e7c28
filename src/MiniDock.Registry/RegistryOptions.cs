using System.Net;

namespace MiniDock.Registry;

/// <summary>Knobs for <see cref="RegistryClient"/>.</summary>
public sealed class RegistryOptions
{
    /// <summary>Registries (host or host:port) spoken to over plain http, like dockerd's --insecure-registry. Loopback is always http.</summary>
    public ISet<string> InsecureRegistries { get; init; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Retries after the first try, for 429, 5xx, resets and timeouts (and for broken blob bodies, which resume).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First backoff step; containerd#10447 settled on about 0.5 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Backoff cap.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Longest Retry-After we are willing to sleep for. Docker Hub's pull quota answers 429 with hours;
    /// waiting that long silently is worse than failing with the message, so longer waits fail at once.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Source of registry credentials; null means anonymous only.</summary>
    public ICredentialStore? Credentials { get; set; }

    /// <summary>How long a blob body may send nothing before the download is treated as dropped and resumed.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Clock for token expiry; replaceable in tests.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Upper bound on a manifest body; distribution-spec says registries may refuse manifests over 4 MiB.</summary>
    public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Upper bound for <see cref="IRegistryClient.GetBlobBytesAsync"/>, which holds the blob in memory.</summary>
    public long MaxInMemoryBlobBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>True when <paramref name="registry"/> (host[:port]) should be spoken to over http.</summary>
    public bool IsInsecure(string registry)
    {
        if (InsecureRegistries.Contains(registry))
        {
            return true;
        }

        var host = HostOf(registry);
        if (InsecureRegistries.Contains(host))
        {
            return true;
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>host[:port] → host, keeping a bracketed IPv6 literal's address (without brackets).</summary>
    internal static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
        {
            var close = registry.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? registry[1..close] : registry;
        }

        var colon = registry.LastIndexOf(':');
        return colon >= 0 && registry.IndexOf(':', StringComparison.Ordinal) == colon ? registry[..colon] : registry;
    }
}

/// <summary>The distribution-spec pull API MiniDock needs.</summary>
public interface IRegistryClient
{
    /// <summary>Fetches the manifest for <paramref name="reference"/>, following an index to <paramref name="platform"/>.</summary>
    Task<ResolvedImage> ResolveAsync(Reference reference, Platform platform, CancellationToken ct);

    /// <summary>GET /v2/ with the configured credentials: throws <see cref="RegistryException"/> when they are refused.</summary>
    Task CheckLoginAsync(string registry, CancellationToken ct);

    /// <summary>Fetches a small blob (a config) into memory, verified against its descriptor.</summary>
    Task<byte[]> GetBlobBytesAsync(Reference reference, Descriptor blob, CancellationToken ct);

    /// <summary>
    /// Streams a blob to <paramref name="partialPath"/>, resuming from its current length with a Range
    /// request, and verifies size and sha256 at the end. On mismatch the file is deleted and
    /// <see cref="DigestMismatchException"/> is thrown. <paramref name="progress"/> receives total bytes on disk.
    /// </summary>
    Task DownloadBlobAsync(Reference reference, Descriptor blob, string partialPath, IProgress<long>? progress, CancellationToken ct);
}
