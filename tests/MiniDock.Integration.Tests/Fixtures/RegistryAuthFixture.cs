using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// A second registry that wants bearer tokens (distribution's <c>auth: token</c>), plus the token server it trusts:
/// an HttpListener on 127.0.0.1 that checks HTTP Basic credentials (<see cref="User"/>/<see cref="Password"/>) and
/// issues RS256 JWTs signed by a throw-away key whose self-signed certificate is the registry's rootcertbundle
/// (the JWT's kid is the libtrust key id of that key, which is how registry 2.8 finds it).
/// Holds one private image, <c>private/busybox:oci</c> (the busybox:oci of <see cref="RegistryImages"/>), and a docker
/// config.json with the right credentials at <see cref="AuthFile"/>.
/// </summary>
public sealed class RegistryAuthFixture : IDisposable
{
    public const string User = "minidock";

    public const string Password = "s3cret-pull";

    public const string Service = "minidock-test-registry";

    public const string Issuer = "minidock-test-token-issuer";

    public const string PrivateRepoTag = "private/busybox:oci";

    private readonly RSA _key = RSA.Create(2048);
    private readonly HttpListener _listener = new();
    private readonly Thread _thread;
    private readonly string _keyId;
    private readonly string _dir;
    private volatile bool _stopping;
    private int _tokensIssued;
    private int _tokensRefused;

    public RegistryAuthFixture()
    {
        _dir = Directory.CreateTempSubdirectory("minidock-registry-auth-").FullName;
        try
        {
            var req = new CertificateRequest("CN=" + Issuer, _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certPath = Path.Combine(_dir, "token-ca.pem");
            File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n");
            _keyId = LibtrustKeyId(_key.ExportSubjectPublicKeyInfo());

            TokenPort = StartListener();
            _thread = new Thread(Serve) { IsBackground = true, Name = "registry-token-server" };
            _thread.Start();

            Registry = new RegistryFixture(
                $"""
                auth:
                  token:
                    realm: http://127.0.0.1:{TokenPort}/token
                    service: {Service}
                    issuer: {Issuer}
                    rootcertbundle: {certPath}

                """,
                pushImages: false);

            AuthFile = Path.Combine(_dir, "config.json");
            var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
            File.WriteAllText(AuthFile, new JsonObject
            {
                ["auths"] = new JsonObject { [Registry.Host] = new JsonObject { ["auth"] = auth } },
            }.ToJsonString());

            Registry.SkopeoOk("copy", "-q", "--dest-tls-verify=false", "--dest-authfile", AuthFile,
                $"oci:{RegistryImages.LayoutDir}:oci", Registry.DockerRef(PrivateRepoTag));
            Private = Registry.SkopeoOk("inspect", "--raw", "--tls-verify=false", "--authfile", AuthFile, Registry.DockerRef(PrivateRepoTag)).Stdout;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The token-protected registry (its <see cref="RegistryFixture.Images"/> is not set).</summary>
    public RegistryFixture Registry { get; } = null!;

    public int TokenPort { get; }

    /// <summary>A docker config.json ({"auths": {HOST: {"auth": base64(user:password)}}}).</summary>
    public string AuthFile { get; } = "";

    /// <summary>The raw manifest of private/busybox:oci.</summary>
    public string Private { get; } = "";

    public int TokensIssued => _tokensIssued;

    public int TokensRefused => _tokensRefused;

    /// <summary>Writes a docker config.json for other credentials into the fixture's dir.</summary>
    public string WriteAuthFile(string user, string password)
    {
        var path = Path.Combine(_dir, $"config-{Guid.NewGuid().ToString("N")[..8]}.json");
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        File.WriteAllText(path, new JsonObject
        {
            ["auths"] = new JsonObject { [Registry.Host] = new JsonObject { ["auth"] = auth } },
        }.ToJsonString());
        return path;
    }

    public void Dispose()
    {
        _stopping = true;
        try
        {
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        _thread?.Join(TimeSpan.FromSeconds(5));
        Registry?.Dispose();
        _key.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>libtrust's key id: base32 of the first 30 bytes of sha256(SubjectPublicKeyInfo), 12 groups of 4.</summary>
    public static string LibtrustKeyId(byte[] spki)
    {
        var b32 = Base32(SHA256.HashData(spki).AsSpan(0, 30));
        return string.Join(':', Enumerable.Range(0, b32.Length / 4).Select(i => b32.Substring(i * 4, 4)));
    }

    private static string Base32(ReadOnlySpan<byte> data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var sb = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            sb.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return sb.ToString();
    }

    private static string B64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private int StartListener()
    {
        for (var attempt = 0; ; attempt++)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                return port;
            }
            catch (HttpListenerException) when (attempt < 3)
            {
            }
        }
    }

    private void Serve()
    {
        while (!_stopping)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = _listener.GetContext();
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }

            try
            {
                Answer(ctx);
            }
            catch (Exception)
            {
                ctx.Response.StatusCode = 500;
            }
            finally
            {
                ctx.Response.Close();
            }
        }
    }

    private void Answer(HttpListenerContext ctx)
    {
        var req = ctx.Request;
        if (req.Url?.AbsolutePath != "/token" || req.QueryString["service"] != Service || !Authorized(req.Headers["Authorization"]))
        {
            Interlocked.Increment(ref _tokensRefused);
            ctx.Response.StatusCode = 401;
            ctx.Response.AddHeader("WWW-Authenticate", "Basic realm=\"minidock-test\"");
            return;
        }

        // Grant whatever repository scope was asked for: the credentials are the test.
        var access = new JsonArray();
        foreach (var scope in req.QueryString.GetValues("scope") ?? [])
        {
            foreach (var one in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = one.Split(':');
                if (parts.Length >= 3)
                {
                    var actions = parts[^1].Split(',');
                    access.Add(new JsonObject
                    {
                        ["type"] = parts[0],
                        ["name"] = string.Join(':', parts[1..^1]),
                        ["actions"] = new JsonArray([.. actions.Select(a => (JsonNode)a)]),
                    });
                }
            }
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["kid"] = _keyId };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = User,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now - 60,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = B64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var token = signingInput + "." + B64Url(signature);
        var body = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["token"] = token,
            ["access_token"] = token,
            ["expires_in"] = 300,
            ["issued_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        }.ToJsonString());
        Interlocked.Increment(ref _tokensIssued);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.OutputStream.Write(body);
    }

    private static bool Authorized(string? header)
    {
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            return decoded == $"{User}:{Password}";
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
