using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MiniDock.Registry;

/// <summary>
/// An OCI distribution-spec pull client (distribution-spec spec.md "Pull"). It handles token auth
/// (Docker token spec), redirects to blob storage, retries with backoff, resumable blob downloads and
/// digest verification; it knows nothing about image stores beyond writing one blob to a given path.
/// </summary>
public sealed class RegistryClient : IRegistryClient
{
    private const int MaxRedirects = 10;
    private const int MaxIndexDepth = 4;
    private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;
    private readonly RegistryOptions _options;
    private readonly ConcurrentDictionary<(string Registry, string Scope), CachedToken> _tokens = new();
    private readonly ConcurrentDictionary<string, bool> _basicHosts = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="http">
    /// Should not follow redirects itself (see <see cref="CreateHttpClient"/>): we follow them so that the
    /// registry's Authorization never reaches blob storage on another host.
    /// </param>
    /// <param name="options">Transport, retry and credential settings.</param>
    public RegistryClient(HttpClient http, RegistryOptions options)
    {
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>An HttpClient configured the way this client expects: no automatic redirects or decompression.</summary>
    public static HttpClient CreateHttpClient(TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        var client = new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromMinutes(30) };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("MiniDock/1.0");
        return client;
    }

    /// <inheritdoc />
    public async Task<ResolvedImage> ResolveAsync(Reference reference, Platform platform, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(platform);
        string? indexDigest = null;
        var target = reference.ManifestReference;
        var pinned = reference.Digest;
        for (var depth = 0; depth < MaxIndexDepth; depth++)
        {
            var (bytes, contentType, headerDigest) = await FetchManifestAsync(reference, target, ct).ConfigureAwait(false);
            var digest = Digests.Sha256(bytes);
            if (pinned is not null && digest != pinned)
            {
                throw new DigestMismatchException(pinned, digest, $"manifest {reference.Repository}@{pinned}");
            }

            // The header is the registry's word for the digest; ours is computed from the bytes we hold, so it
            // wins, but a disagreeing sha256 header means something between us altered the manifest.
            if (headerDigest is not null && Digests.IsSha256(headerDigest) && headerDigest != digest)
            {
                throw new DigestMismatchException(headerDigest, digest, $"manifest {reference}");
            }

            var mediaType = ManifestParser.DetectMediaType(bytes, contentType);
            if (MediaTypes.IsIndex(mediaType))
            {
                var entries = ManifestParser.ParseIndex(bytes);
                var chosen = ManifestParser.SelectPlatform(entries, platform, reference.ToString());
                indexDigest ??= digest;
                target = chosen.Digest;
                pinned = chosen.Digest;
                continue;
            }

            if (!MediaTypes.IsManifest(mediaType))
            {
                throw new RegistryException($"unsupported manifest media type '{mediaType}' for {reference}");
            }

            var manifest = ManifestParser.ParseManifest(bytes, mediaType);
            return new ResolvedImage(reference, digest, mediaType, bytes, manifest.Config, manifest.Layers, indexDigest);
        }

        throw new RegistryException($"indexes nested more than {MaxIndexDepth} deep for {reference}");
    }

    /// <inheritdoc />
    /// <summary>
    /// <c>login</c>'s check (distribution-spec "Determining Support"): GET /v2/ with the stored
    /// credentials, through the same Basic/Bearer flow as a pull, so a wrong password fails here
    /// rather than at the next pull.
    /// </summary>
    public async Task CheckLoginAsync(string registry, CancellationToken ct)
    {
        var probe = new Reference(registry, "library/minidock-login-check", "latest", null);
        using var response = await SendAsync(probe, new Uri(BaseUri(probe), "v2/"), null, null, ct).ConfigureAwait(false);
    }

    public async Task<byte[]> GetBlobBytesAsync(Reference reference, Descriptor blob, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(blob);
        Digests.Validate(blob.Digest, "blob");
        if (blob.Size > _options.MaxInMemoryBlobBytes)
        {
            throw new RegistryException($"blob {blob.Digest} is {blob.Size} bytes, too large to hold in memory");
        }

        var uri = BlobUri(reference, blob.Digest);
        for (var attempt = 0; ; attempt++)
        {
            using var response = await SendAsync(reference, uri, null, null, ct).ConfigureAwait(false);
            byte[] bytes;
            try
            {
                bytes = await ReadLimitedAsync(response, blob.Size, $"blob {blob.Digest}", ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, ct) && attempt < _options.MaxRetries)
            {
                await DelayAsync(Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }

            var actual = Digests.Sha256(bytes);
            if (bytes.Length != blob.Size || actual != blob.Digest)
            {
                throw new DigestMismatchException(blob.Digest, bytes.Length != blob.Size ? $"{actual} ({bytes.Length} bytes, want {blob.Size})" : actual, $"blob {blob.Digest}");
            }

            return bytes;
        }
    }

    /// <inheritdoc />
    public async Task DownloadBlobAsync(Reference reference, Descriptor blob, string partialPath, IProgress<long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(blob);
        ArgumentException.ThrowIfNullOrEmpty(partialPath);
        Digests.Validate(blob.Digest, "blob");
        var uri = BlobUri(reference, blob.Digest);
        var what = $"blob {blob.Digest}";

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        string? headerDigest = null;
        try
        {
            await using var file = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.Asynchronous);
            long written = file.Length;
            if (written > blob.Size)
            {
                file.SetLength(0);
                written = 0;
            }

            // Resuming: the bytes already on disk must be part of the hash, so read them once.
            file.Position = 0;
            int n;
            while (file.Position < written && (n = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, written - file.Position)), ct).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }

            progress?.Report(written);
            var bodyFailures = 0;
            while (written < blob.Size)
            {
                using var response = await SendAsync(reference, uri, null, written > 0 ? written : null, ct).ConfigureAwait(false);
                headerDigest ??= DockerContentDigest(response);

                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable
                    || (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From is long from && from != written))
                {
                    // The registry cannot continue where we stopped: start over from byte 0.
                    Restart(file, hash, ref written, progress);
                    continue;
                }

                if (response.StatusCode != HttpStatusCode.PartialContent && written > 0)
                {
                    // A 200 to a Range request is the whole blob (RFC 9110 §14.2: servers may ignore Range).
                    Restart(file, hash, ref written, progress);
                }

                file.Position = written;
                try
                {
                    await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);

                    // A connection that goes silent (no reset, no bytes) would hang the pull forever:
                    // after StallTimeout without a byte it counts as dropped, and resumes with Range.
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    stall.CancelAfter(_options.StallTimeout);
                    while ((n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false)) > 0)
                    {
                        stall.CancelAfter(_options.StallTimeout);
                        if (written + n > blob.Size)
                        {
                            break; // more than the descriptor says: stop streaming, the size check below fails it
                        }

                        await file.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        hash.AppendData(buffer, 0, n);
                        written += n;
                        progress?.Report(written);
                    }

                    if (n > 0)
                    {
                        // Over-long: no resume can make this the blob the descriptor names.
                        written += n;
                        break;
                    }

                    if (written < blob.Size)
                    {
                        // A body that ends early without an error (a proxy closing a chunked stream) is as
                        // broken as a reset connection, and just as resumable.
                        throw new IOException($"connection closed after {written} of {blob.Size} bytes");
                    }
                }
                catch (Exception ex) when (IsTransient(ex, ct) && bodyFailures < _options.MaxRetries)
                {
                    // Keep what arrived; the next request asks for the rest with Range (moby#26146).
                    await file.FlushAsync(ct).ConfigureAwait(false);
                    await DelayAsync(Backoff(bodyFailures++), ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsTransient(ex, ct))
                {
                    await file.FlushAsync(ct).ConfigureAwait(false);
                    throw new RegistryException($"downloading {what} from {reference.Registry} failed after {bodyFailures + 1} tries: {ex.Message}", null, ex);
                }
            }

            await file.FlushAsync(ct).ConfigureAwait(false);
            var actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
            string? mismatch = null;
            if (written != blob.Size)
            {
                mismatch = $"{actual} ({written} bytes, want {blob.Size})";
            }
            else if (actual != blob.Digest)
            {
                mismatch = actual;
            }
            else if (headerDigest is not null && Digests.IsSha256(headerDigest) && headerDigest != blob.Digest)
            {
                mismatch = $"{headerDigest} (Docker-Content-Digest header)";
            }

            if (mismatch is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
                File.Delete(partialPath);
                throw new DigestMismatchException(blob.Digest, mismatch, what);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Restart(FileStream file, IncrementalHash hash, ref long written, IProgress<long>? progress)
    {
        file.SetLength(0);
        hash.GetHashAndReset();
        written = 0;
        progress?.Report(0);
    }

    private async Task<(byte[] Bytes, string? ContentType, string? Digest)> FetchManifestAsync(Reference reference, string target, CancellationToken ct)
    {
        var uri = new Uri(BaseUri(reference), $"v2/{reference.Repository}/manifests/{target}");
        for (var attempt = 0; ; attempt++)
        {
            using var response = await SendAsync(reference, uri, MediaTypes.AcceptManifests, null, ct).ConfigureAwait(false);
            try
            {
                var bytes = await ReadLimitedAsync(response, _options.MaxManifestBytes, $"manifest {reference.Repository}:{target}", ct).ConfigureAwait(false);
                return (bytes, response.Content.Headers.ContentType?.MediaType, DockerContentDigest(response));
            }
            catch (Exception ex) when (IsTransient(ex, ct) && attempt < _options.MaxRetries)
            {
                await DelayAsync(Backoff(attempt), ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, long limit, string what, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is long declared && declared > limit)
        {
            throw new RegistryException($"{what} is {declared} bytes, more than the {limit} expected");
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var ms = new MemoryStream();
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int n;
            while ((n = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + n > limit)
                {
                    throw new RegistryException($"{what} is larger than the {limit} bytes expected");
                }

                ms.Write(buffer, 0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return ms.ToArray();
    }

    private static string? DockerContentDigest(HttpResponseMessage response)
        => response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()?.Trim() : null;

    private Uri BaseUri(Reference reference)
        => new($"{(_options.IsInsecure(reference.Registry) ? "http" : "https")}://{reference.ApiHost}/");

    private Uri BlobUri(Reference reference, string digest) => new(BaseUri(reference), $"v2/{reference.Repository}/blobs/{digest}");

    /// <summary>
    /// Sends a GET with auth, redirects and retries. Returns a 2xx response (or 416 to a Range request)
    /// with only headers read; anything else becomes a <see cref="RegistryException"/>.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Reference reference, Uri uri, string? accept, long? rangeFrom, CancellationToken ct)
    {
        var authRounds = 0;
        for (var attempt = 0; ; attempt++)
        {
            var authorization = CachedAuthorization(reference);
            HttpResponseMessage response;
            try
            {
                response = await SendFollowingRedirectsAsync(uri, accept, rangeFrom, authorization, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, ct))
            {
                if (attempt >= _options.MaxRetries)
                {
                    throw new RegistryException($"GET {uri} failed after {attempt + 1} tries: {ex.Message}", null, ex);
                }

                await DelayAsync(Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }

            var status = response.StatusCode;
            if (response.IsSuccessStatusCode || (status == HttpStatusCode.RequestedRangeNotSatisfiable && rangeFrom is not null))
            {
                return response;
            }

            if (status == HttpStatusCode.Unauthorized && authRounds++ == 0)
            {
                var challenge = AuthChallenge.Select(response.Headers.TryGetValues("WWW-Authenticate", out var h) ? h : []);
                if (challenge is not null)
                {
                    response.Dispose();
                    await AuthenticateAsync(reference, challenge, ct).ConfigureAwait(false);
                    attempt--; // an auth round is not a retry
                    continue;
                }
            }

            if (status == HttpStatusCode.TooManyRequests || (int)status >= 500 || status == HttpStatusCode.RequestTimeout)
            {
                var retryAfter = RetryAfter(response);
                if (attempt < _options.MaxRetries && (retryAfter is null || retryAfter <= _options.MaxRetryAfter))
                {
                    response.Dispose();
                    await DelayAsync(retryAfter ?? Backoff(attempt), ct).ConfigureAwait(false);
                    continue;
                }
            }

            using (response)
            {
                throw await ToExceptionAsync(response, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(Uri uri, string? accept, long? rangeFrom, AuthenticationHeaderValue? authorization, CancellationToken ct)
    {
        var registryAuthority = uri.Authority;
        var current = uri;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            if (rangeFrom is long from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }

            // Blob GETs are often 307s to object storage; S3-style stores reject a foreign Authorization.
            if (authorization is not null && string.Equals(current.Authority, registryAuthority, StringComparison.OrdinalIgnoreCase)
                && current.Scheme == uri.Scheme)
            {
                request.Headers.Authorization = authorization;
            }

            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (code is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= MaxRedirects)
                {
                    throw new RegistryException($"too many redirects fetching {uri}");
                }

                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }

            return response;
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is TimeSpan delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is DateTimeOffset date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>Capped exponential backoff with jitter (half fixed, half random), so clients don't retry in lockstep.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var baseMs = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var capped = Math.Min(baseMs, _options.RetryMaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private static Task DelayAsync(TimeSpan delay, CancellationToken ct)
        => delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, ct);

    private static bool IsTransient(Exception ex, CancellationToken ct) => ex switch
    {
        OperationCanceledException => !ct.IsCancellationRequested, // HttpClient.Timeout, not the caller
        HttpRequestException hre => hre.StatusCode is null, // connection-level failure
        IOException => true,
        _ => false,
    };

    private static async Task<RegistryException> ToExceptionAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var uri = response.RequestMessage?.RequestUri;
        string? detail = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            detail = ErrorMessage(body);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            // The status alone will have to do.
        }

        var status = (int)response.StatusCode;
        var text = status switch
        {
            401 => "unauthorized (wrong credentials, or the repository does not exist or is private)",
            403 => "access denied",
            404 => "not found",
            429 => "too many requests (rate limited)",
            _ => response.ReasonPhrase ?? response.StatusCode.ToString(),
        };
        var retryAfter = status == 429 && RetryAfter(response) is TimeSpan ra ? $"; retry after {ra:g}" : string.Empty;
        return new RegistryException($"GET {uri}: {status} {text}{(detail is null ? string.Empty : ": " + detail)}{retryAfter}", response.StatusCode);
    }

    /// <summary>distribution-spec "Error Codes": {"errors":[{"code":"…","message":"…"}]}; first entry, one line.</summary>
    internal static string? ErrorMessage(byte[] body)
    {
        if (body.Length == 0)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                var first = errors[0];
                var code = first.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                var message = first.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                var line = code is null ? message : message is null ? code : $"{code}: {message}";
                return line?.ReplaceLineEndings(" ");
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to no detail rather than dumping an HTML page into the message.
        }

        return null;
    }

    private AuthenticationHeaderValue? CachedAuthorization(Reference reference)
    {
        if (_tokens.TryGetValue((reference.Registry, DefaultScope(reference)), out var token) && token.ExpiresAt > _options.Time.GetUtcNow())
        {
            return new AuthenticationHeaderValue("Bearer", token.Value);
        }

        if (_basicHosts.ContainsKey(reference.Registry) && _options.Credentials?.Get(reference.Registry) is var (user, secret))
        {
            return BasicHeader(user, secret);
        }

        return null;
    }

    private static string DefaultScope(Reference reference) => $"repository:{reference.Repository}:pull";

    private static AuthenticationHeaderValue BasicHeader(string user, string secret)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + secret)));

    /// <summary>
    /// Docker token auth ("Requesting a Token"): GET realm?service=…&amp;scope=… anonymously or with Basic
    /// credentials, and cache the token per (registry, scope) until expires_in (default 60 s).
    /// </summary>
    private async Task AuthenticateAsync(Reference reference, AuthChallenge challenge, CancellationToken ct)
    {
        var credentials = _options.Credentials?.Get(reference.Registry);
        if (challenge.IsBasic)
        {
            if (credentials is null)
            {
                throw new RegistryException($"{reference.Registry} requires a login (Basic auth) and no credentials are configured", HttpStatusCode.Unauthorized);
            }

            _basicHosts[reference.Registry] = true;
            return;
        }

        if (string.IsNullOrEmpty(challenge.Realm) || !Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm))
        {
            throw new RegistryException($"{reference.Registry} sent a Bearer challenge without a usable realm", HttpStatusCode.Unauthorized);
        }

        var scope = challenge.Scope ?? DefaultScope(reference);
        var query = new StringBuilder();
        if (!string.IsNullOrEmpty(challenge.Service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(challenge.Service));
        }

        foreach (var s in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Append(query.Length > 0 ? "&" : string.Empty).Append("scope=").Append(Uri.EscapeDataString(s));
        }

        var builder = new UriBuilder(realm);
        var existing = builder.Query.TrimStart('?');
        builder.Query = existing.Length > 0 ? existing + "&" + query : query.ToString();

        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (credentials is var (user, secret))
        {
            request.Headers.Authorization = BasicHeader(user, secret);
        }

        HttpResponseMessage response;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var retryRequest = Clone(request);
                response = await _http.SendAsync(retryRequest, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
                if (((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests) && attempt < _options.MaxRetries)
                {
                    var wait = RetryAfter(response) ?? Backoff(attempt);
                    response.Dispose();
                    await DelayAsync(wait > _options.MaxRetryAfter ? _options.MaxRetryAfter : wait, ct).ConfigureAwait(false);
                    continue;
                }

                break;
            }
            catch (Exception ex) when (IsTransient(ex, ct) && attempt < _options.MaxRetries)
            {
                await DelayAsync(Backoff(attempt), ct).ConfigureAwait(false);
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var e = await ToExceptionAsync(response, ct).ConfigureAwait(false);
                throw new RegistryException($"token request for {reference.Registry} failed: {e.Message}", response.StatusCode);
            }

            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            var (token, expiresIn) = ParseTokenResponse(body);
            var lifetime = expiresIn is > 0 ? TimeSpan.FromSeconds(expiresIn.Value) : DefaultTokenLifetime;
            var entry = new CachedToken(token, _options.Time.GetUtcNow() + lifetime);
            _tokens[(reference.Registry, scope)] = entry;
            _tokens[(reference.Registry, DefaultScope(reference))] = entry;
        }
    }

    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri);
        copy.Headers.Authorization = request.Headers.Authorization;
        return copy;
    }

    /// <summary>Token response: "token" (or the OAuth2 name "access_token") and optional "expires_in" seconds.</summary>
    internal static (string Token, int? ExpiresIn) ParseTokenResponse(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string? token = null;
            if (root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
            {
                token = t.GetString();
            }

            if (string.IsNullOrEmpty(token) && root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String)
            {
                token = a.GetString();
            }

            if (string.IsNullOrEmpty(token))
            {
                throw new RegistryException("token response has no token");
            }

            int? expires = root.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var s) ? s : null;
            return (token, expires);
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"token response is not valid JSON: {ex.Message}", null, ex);
        }
    }

    private sealed record CachedToken(string Value, DateTimeOffset ExpiresAt);
}
