using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Images;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;
using MiniDock.Registry;

namespace MiniDock.Cli;

/// <summary>
/// The object graph of the user CLI, built once per command with Microsoft.Extensions.DependencyInjection
/// and the HttpClient factory (both AOT-clean). Redirects are the registry client's job (it must
/// drop Authorization when a blob redirect leaves the registry's host), so the handler doesn't follow them.
/// </summary>
internal static class Services
{
    public static ServiceProvider Build()
    {
        var root = DataRoot.FromEnvironment();
        var services = new ServiceCollection();
        services.AddSingleton(root);
        var (options, mirrors) = LoadOptions();
        services.AddSingleton(options);
        services.AddSingleton(mirrors);
        services.AddHttpClient("registry")
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .ConfigureHttpClient(h => h.Timeout = Timeout.InfiniteTimeSpan);
        // Lazy: most commands (run of a present image, ps, rm) never talk to a registry, and building the
        // HttpClient pipeline costs milliseconds of every start.
        services.AddSingleton<IRegistryClient>(sp => new LazyRegistryClient(
            () => new RegistryClient(sp.GetRequiredService<IHttpClientFactory>().CreateClient("registry"), sp.GetRequiredService<RegistryOptions>())));
        services.AddSingleton<IContentStore>(_ => new ContentStore(root.Data));
        services.AddSingleton(_ => new ImageDb(root.Data));
        services.AddSingleton(_ => new Images.Unpack.LayerStore(root.Data));
        services.AddSingleton<ImageService>();
        services.AddSingleton(_ => new Containers.Store.ContainerDb(root.Data));
        services.AddSingleton(sp => new Containers.ContainerService(root, sp.GetRequiredService<Containers.Store.ContainerDb>(), sp.GetRequiredService<ImageDb>(),
            sp.GetRequiredService<IContentStore>(), sp.GetRequiredService<Images.Unpack.LayerStore>())
        {
            Trace = Environment.GetEnvironmentVariable("MINIDOCK_TRACE") is { Length: > 0 }
                ? new Runtime.Trace(Console.Error.WriteLine, Program.Started)
                : Runtime.Trace.Off,
        });
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// MiniDock's daemon.json-like config: <c>$MINIDOCK_CONFIG</c>, else /etc/minidock/config.json,
    /// with Docker's keys <c>insecure-registries</c> and <c>registry-mirrors</c>.
    /// </summary>
    private static (RegistryOptions Options, RegistryMirrors Mirrors) LoadOptions()
    {
        var options = new RegistryOptions { Credentials = new DockerConfigCredentials() };
        var mirrors = new RegistryMirrors([]);
        var path = Environment.GetEnvironmentVariable("MINIDOCK_CONFIG") is { Length: > 0 } p ? p : "/etc/minidock/config.json";
        if (!File.Exists(path))
        {
            return (options, mirrors);
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.TryGetProperty("insecure-registries", out var insecure) && insecure.ValueKind == JsonValueKind.Array)
            {
                foreach (var r in insecure.EnumerateArray())
                {
                    options.InsecureRegistries.Add(r.GetString() ?? "");
                }
            }

            if (doc.RootElement.TryGetProperty("registry-mirrors", out var m) && m.ValueKind == JsonValueKind.Array)
            {
                mirrors = RegistryMirrors.Parse(m.EnumerateArray().Select(x => x.GetString() ?? ""));
                foreach (var u in m.EnumerateArray().Select(x => x.GetString() ?? ""))
                {
                    // An http:// mirror is asked over plain HTTP, as dockerd does for one named so.
                    if (u.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(u, UriKind.Absolute, out var uri))
                    {
                        options.InsecureRegistries.Add(uri.Authority);
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new ImageException($"{path}: invalid JSON: {e.Message}");
        }

        return (options, mirrors);
    }
}

/// <summary>An <see cref="IRegistryClient"/> made on first use.</summary>
internal sealed class LazyRegistryClient(Func<IRegistryClient> create) : IRegistryClient
{
    private readonly Lazy<IRegistryClient> _client = new(create);

    public Task<ResolvedImage> ResolveAsync(Reference reference, Platform platform, CancellationToken ct) => _client.Value.ResolveAsync(reference, platform, ct);

    public Task CheckLoginAsync(string registry, CancellationToken ct) => _client.Value.CheckLoginAsync(registry, ct);

    public Task<byte[]> GetBlobBytesAsync(Reference reference, Descriptor blob, CancellationToken ct) => _client.Value.GetBlobBytesAsync(reference, blob, ct);

    public Task DownloadBlobAsync(Reference reference, Descriptor blob, string partialPath, IProgress<long>? progress, CancellationToken ct)
        => _client.Value.DownloadBlobAsync(reference, blob, partialPath, progress, ct);
}
