using System.Net;
using System.Security.Cryptography;
using System.Text;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace MiniDock.Registry.Tests;

/// <summary>
/// Behaviour a real registry will not show on demand (rate limits, 5xx, dropped connections, redirects,
/// expiring tokens), served by WireMock on loopback, which the client speaks plain http to.
/// </summary>
public sealed class WireMockTests : IDisposable
{
    private readonly WireMockServer _server = WireMockServer.Start();
    private readonly List<string> _tempFiles = [];

    public void Dispose()
    {
        _server.Stop();
        _server.Dispose();
        foreach (var f in _tempFiles)
        {
            File.Delete(f);
        }
    }

    private Reference Ref => Reference.Parse($"127.0.0.1:{_server.Port}/test/app:latest");

    private static RegistryClient Client(ICredentialStore? creds = null) => new(
        RegistryClient.CreateHttpClient(TimeSpan.FromSeconds(30)),
        new RegistryOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5), Credentials = creds });

    private static (byte[] Bytes, Descriptor Descriptor) Blob(int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        return (bytes, new Descriptor(MediaTypes.OciLayerGzip, Digests.Sha256(bytes), size));
    }

    private string TempPath()
    {
        var p = Path.Combine(Path.GetTempPath(), $"minidock-blob-{Guid.NewGuid():N}.partial");
        _tempFiles.Add(p);
        return p;
    }

    private static string BlobPath(Descriptor d) => "/v2/test/app/blobs/" + d.Digest;

    [Fact]
    public async Task ResolveFollowsIndexToPlatformManifestWithoutMediaTypeField()
    {
        var manifest = Encoding.UTF8.GetBytes(ManifestParserTests.Manifest(MediaTypes.OciLayerGzip).Replace("\"schemaVersion\":2,", "\"schemaVersion\":2,", StringComparison.Ordinal));
        var manifestDigest = Digests.Sha256(manifest);
        var index = Encoding.UTF8.GetBytes($$$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{{new string('9', 64)}}}","size":1,"platform":{"os":"linux","architecture":"arm64"}},
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{{{new string('8', 64)}}}","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
             {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{{manifestDigest}}}","size":{{{manifest.Length}}},"platform":{"os":"linux","architecture":"amd64"}}]}
            """);
        _server.Given(Request.Create().WithPath("/v2/test/app/manifests/latest").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", MediaTypes.OciIndex).WithBody(index));
        _server.Given(Request.Create().WithPath("/v2/test/app/manifests/" + manifestDigest).UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", MediaTypes.OciManifest).WithHeader("Docker-Content-Digest", manifestDigest).WithBody(manifest));

        var image = await Client().ResolveAsync(Ref, Platform.Default, CancellationToken.None);

        Assert.Equal(manifestDigest, image.ManifestDigest);
        Assert.Equal(Digests.Sha256(index), image.IndexDigest);
        Assert.Equal(MediaTypes.OciManifest, image.ManifestMediaType);
        Assert.Single(image.Layers);
        var accept = string.Join(",", _server.LogEntries.First().RequestMessage.Headers!["Accept"]);
        Assert.Contains(MediaTypes.OciIndex, accept);
        Assert.Contains(MediaTypes.DockerManifestList, accept);
        Assert.Contains(MediaTypes.DockerManifest, accept);
        Assert.Contains(MediaTypes.OciManifest, accept);
    }

    [Fact]
    public async Task PinnedDigestIsVerified()
    {
        var wrong = "sha256:" + new string('a', 64);
        _server.Given(Request.Create().WithPath("/v2/test/app/manifests/" + wrong).UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", MediaTypes.OciManifest).WithBody(ManifestParserTests.Manifest(MediaTypes.OciLayerTar)));
        var pinned = Reference.Parse($"127.0.0.1:{_server.Port}/test/app@{wrong}");
        await Assert.ThrowsAsync<DigestMismatchException>(() => Client().ResolveAsync(pinned, Platform.Default, CancellationToken.None));
    }

    [Fact]
    public async Task Retries429HonouringRetryAfter()
    {
        var (bytes, d) = Blob(100);
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).InScenario("rl").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "0"));
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).InScenario("rl").WhenStateIs("ok")
            .RespondWith(Response.Create().WithBody(bytes));

        Assert.Equal(bytes, await Client().GetBlobBytesAsync(Ref, d, CancellationToken.None));
        Assert.Equal(2, _server.LogEntries.Count());
    }

    [Fact]
    public async Task Retries503ThenSucceeds()
    {
        var (bytes, d) = Blob(100);
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).InScenario("5xx").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(503));
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).InScenario("5xx").WhenStateIs("ok")
            .RespondWith(Response.Create().WithBody(bytes));

        var path = TempPath();
        await Client().DownloadBlobAsync(Ref, d, path, null, CancellationToken.None);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task NotFoundFailsAtOnceWithRegistryMessage()
    {
        var (_, d) = Blob(10);
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "application/json")
                .WithBody("""{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}"""));

        var ex = await Assert.ThrowsAsync<RegistryException>(() => Client().GetBlobBytesAsync(Ref, d, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("blob unknown to registry", ex.Message);
        Assert.Single(_server.LogEntries);
    }

    [Fact]
    public async Task DroppedConnectionResumesWithRange()
    {
        var (bytes, d) = Blob(200_000);
        const int Half = 100_000;
        // Promise the full length but send half: Kestrel then aborts the connection, as a broken network would.
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).InScenario("drop").WillSetStateTo("dropped")
            .RespondWith(Response.Create().WithHeader("Content-Length", bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).WithBody(bytes[..Half]));
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet().WithHeader("Range", $"bytes={Half}-")).InScenario("drop").WhenStateIs("dropped")
            .RespondWith(Response.Create().WithStatusCode(206)
                .WithHeader("Content-Range", $"bytes {Half}-{bytes.Length - 1}/{bytes.Length}")
                .WithBody(bytes[Half..]));

        var path = TempPath();
        var reports = new List<long>();
        await Client().DownloadBlobAsync(Ref, d, path, new SyncProgress(reports), CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        var requests = _server.LogEntries.Select(e => e.RequestMessage).ToList();
        Assert.Equal(2, requests.Count);
        Assert.False(requests[0].Headers!.ContainsKey("Range"));
        Assert.Equal($"bytes={Half}-", requests[1].Headers!["Range"].Single());
        Assert.Equal(bytes.Length, reports[^1]);
    }

    [Fact]
    public async Task ResumesFromExistingPartialFileAndRestartsOn200()
    {
        var (bytes, d) = Blob(5000);
        var path = TempPath();
        await File.WriteAllBytesAsync(path, bytes[..1000]);
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet())
            .RespondWith(Response.Create().WithBody(bytes)); // ignores Range: a 200 with the whole blob

        await Client().DownloadBlobAsync(Ref, d, path, null, CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        Assert.Equal("bytes=1000-", _server.LogEntries.Single().RequestMessage.Headers!["Range"].Single());
    }

    [Fact]
    public async Task DigestMismatchDeletesPartialFile()
    {
        var (bytes, d) = Blob(1000);
        var tampered = (byte[])bytes.Clone();
        tampered[500] ^= 0xff;
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet()).RespondWith(Response.Create().WithBody(tampered));

        var path = TempPath();
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => Client().DownloadBlobAsync(Ref, d, path, null, CancellationToken.None));
        Assert.Equal(d.Digest, ex.Expected);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task RedirectToOtherHostDropsAuthorization()
    {
        using var storage = WireMockServer.Start();
        var (bytes, d) = Blob(3000);
        AddTokenEndpoint(_server, "tok", null);
        _server.Given(Request.Create().WithPath(BlobPath(d)).UsingGet().WithHeader("Authorization", "Bearer tok")).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(307).WithHeader("Location", $"http://localhost:{storage.Port}/store/blob?sig=1"));
        AddChallenge(_server);
        storage.Given(Request.Create().WithPath("/store/blob").UsingGet()).RespondWith(Response.Create().WithBody(bytes));

        var path = TempPath();
        await Client().DownloadBlobAsync(Ref, d, path, null, CancellationToken.None);

        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        var stored = storage.LogEntries.Single().RequestMessage;
        Assert.False(stored.Headers!.ContainsKey("Authorization"));
        Assert.Contains(_server.LogEntries, e => e.RequestMessage.Headers!.TryGetValue("Authorization", out var v) && v.Contains("Bearer tok"));
    }

    [Fact]
    public async Task BearerTokenIsFetchedWithBasicCredentialsAndRenewedWhenExpired()
    {
        var (a, da) = Blob(10);
        var (b, db) = Blob(20);
        _server.Given(Request.Create().WithPath("/token").UsingGet()).InScenario("tok").WillSetStateTo("second")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("""{"token":"t1","expires_in":1}"""));
        _server.Given(Request.Create().WithPath("/token").UsingGet()).InScenario("tok").WhenStateIs("second")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("""{"access_token":"t2","expires_in":300}"""));
        _server.Given(Request.Create().WithPath(BlobPath(da)).UsingGet().WithHeader("Authorization", "Bearer t1")).AtPriority(1)
            .RespondWith(Response.Create().WithBody(a));
        // The registry considers t1 expired by now: only t2 opens blob b.
        _server.Given(Request.Create().WithPath(BlobPath(db)).UsingGet().WithHeader("Authorization", "Bearer t2")).AtPriority(1)
            .RespondWith(Response.Create().WithBody(b));
        AddChallenge(_server);

        var client = Client(new StaticCredentials().Add($"127.0.0.1:{_server.Port}", "user", "pw"));
        Assert.Equal(a, await client.GetBlobBytesAsync(Ref, da, CancellationToken.None));
        Assert.Equal(b, await client.GetBlobBytesAsync(Ref, db, CancellationToken.None));

        var tokenRequests = _server.LogEntries.Where(e => e.RequestMessage.Path == "/token").Select(e => e.RequestMessage).ToList();
        Assert.Equal(2, tokenRequests.Count);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pw"));
        Assert.All(tokenRequests, r => Assert.Equal(basic, r.Headers!["Authorization"].Single()));
        Assert.Equal("repository:test/app:pull", tokenRequests[0].Query!["scope"].Single());
        Assert.Equal("reg", tokenRequests[0].Query!["service"].Single());
    }

    [Fact]
    public async Task UnauthorizedAfterReauthenticationFails()
    {
        var (_, d) = Blob(10);
        AddTokenEndpoint(_server, "useless", 60);
        AddChallenge(_server);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => Client().GetBlobBytesAsync(Ref, d, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
    }

    private static void AddTokenEndpoint(WireMockServer server, string token, int? expiresIn) =>
        server.Given(Request.Create().WithPath("/token").UsingGet())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody(expiresIn is null ? $$"""{"token":"{{token}}"}""" : $$"""{"token":"{{token}}","expires_in":{{expiresIn}}}"""));

    private static void AddChallenge(WireMockServer server) =>
        server.Given(Request.Create().WithPath("/v2/*").UsingGet()).AtPriority(10)
            .RespondWith(Response.Create().WithStatusCode(401)
                .WithHeader("WWW-Authenticate", $"Bearer realm=\"http://127.0.0.1:{server.Port}/token\",service=\"reg\",scope=\"repository:test/app:pull\"")
                .WithHeader("Content-Type", "application/json")
                .WithBody("""{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"""));

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }
}
