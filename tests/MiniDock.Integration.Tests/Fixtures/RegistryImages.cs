using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>The media types the registry images use.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string InToto = "application/vnd.in-toto+json";

    /// <summary>Every manifest type, for an Accept header.</summary>
    public static readonly string[] AllManifests = [OciManifest, OciIndex, DockerManifest, DockerManifestList];
}

/// <summary>One descriptor of a manifest (config/layer) or an index (platform manifest; Platform is "os/arch[/variant]").</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size, string? Platform = null);

/// <summary>A manifest or index as the registry serves it, read back with <c>skopeo inspect --raw</c>.</summary>
public sealed class PushedManifest
{
    private PushedManifest(string repository, string tag, string raw)
    {
        Repository = repository;
        Tag = tag;
        Raw = raw;
        Digest = RegistryImages.Sha256Digest(Encoding.UTF8.GetBytes(raw));
        var json = JsonNode.Parse(raw)!.AsObject();
        HasMediaTypeField = json["mediaType"] is not null;
        if (json["manifests"] is JsonArray manifests)
        {
            Manifests = [.. manifests.Select(m => ToDescriptor(m!))];
            MediaType = (string?)json["mediaType"] ?? MediaTypes.OciIndex;
        }
        else
        {
            var config = ToDescriptor(json["config"]!);
            Config = config;
            Layers = [.. json["layers"]!.AsArray().Select(l => ToDescriptor(l!))];
            MediaType = (string?)json["mediaType"]
                ?? (config.MediaType == MediaTypes.OciConfig ? MediaTypes.OciManifest : "unknown (no mediaType field)");
        }
    }

    /// <summary>Repository without the host, e.g. "busybox".</summary>
    public string Repository { get; }

    /// <summary>The tag it was pushed as; for a platform manifest of an index, its digest.</summary>
    public string Tag { get; }

    /// <summary>"REPO:TAG", or "REPO@DIGEST" for an untagged platform manifest.</summary>
    public string RepoTag => Tag.StartsWith("sha256:", StringComparison.Ordinal) ? $"{Repository}@{Tag}" : $"{Repository}:{Tag}";

    /// <summary>The exact manifest bytes (ASCII JSON).</summary>
    public string Raw { get; }

    /// <summary>sha256 of <see cref="Raw"/>: the manifest digest.</summary>
    public string Digest { get; }

    /// <summary>The JSON's mediaType, or (when the field is absent, as in umoci's OCI manifests) what the content implies.</summary>
    public string MediaType { get; }

    /// <summary>False for umoci-made OCI manifests, which leave the optional field out: clients must use Content-Type.</summary>
    public bool HasMediaTypeField { get; }

    public bool IsIndex => Manifests.Count > 0;

    public Descriptor? Config { get; }

    public string ConfigDigest => Config?.Digest ?? throw new InvalidOperationException($"{RepoTag} is an index");

    /// <summary>The first 12 hex digits of the config digest: the image ID `images` shows.</summary>
    public string ShortId => RegistryFixture.Hex(ConfigDigest)[..12];

    public IReadOnlyList<Descriptor> Layers { get; } = [];

    /// <summary>For an index/list: its entries, in order.</summary>
    public IReadOnlyList<Descriptor> Manifests { get; } = [];

    /// <summary>For an index/list: the platform manifests read back, keyed by digest.</summary>
    public IReadOnlyDictionary<string, PushedManifest> Children { get; private set; } = new Dictionary<string, PushedManifest>();

    public PushedManifest Child(string platform) =>
        Children[Manifests.Single(m => m.Platform == platform).Digest];

    public override string ToString() => $"{RepoTag} {MediaType} {Digest}";

    internal static PushedManifest Read(RegistryFixture registry, string repository, string tag)
    {
        var m = new PushedManifest(repository, tag, registry.InspectRaw($"{repository}:{tag}"));
        if (m.IsIndex)
        {
            m.Children = m.Manifests.ToDictionary(
                d => d.Digest,
                d => new PushedManifest(repository, d.Digest, registry.InspectRaw($"{repository}@{d.Digest}")));
        }

        return m;
    }

    private static Descriptor ToDescriptor(JsonNode n)
    {
        string? platform = null;
        if (n["platform"] is JsonObject p)
        {
            platform = $"{(string?)p["os"]}/{(string?)p["architecture"]}" + (p["variant"] is { } v ? $"/{(string?)v}" : "");
        }

        return new Descriptor((string)n["mediaType"]!, (string)n["digest"]!, (long)n["size"]!, platform);
    }
}

/// <summary>
/// The images every <see cref="RegistryFixture"/> holds, made without MiniDock:
/// <list type="bullet">
/// <item><c>busybox:oci</c>: OCI manifest (umoci; no mediaType field), config linux/amd64, two gzip layers built by
/// <c>umoci repack</c>: /bin/busybox (busybox-static) + applet symlinks + /etc/removeme, then /etc/motd and a whiteout
/// <c>etc/.wh.removeme</c>.</item>
/// <item><c>busybox:v2s2</c>: the same converted by <c>skopeo copy --format v2s2</c> (same layer and config blobs,
/// Docker media types).</item>
/// <item><c>multi:latest</c>: a hand-written OCI index: linux/arm64/v8 (a tiny fake image, /etc/arch), an
/// unknown/unknown attestation manifest (in-toto layer), and linux/amd64 LAST (= the busybox:oci manifest);
/// pushed with <c>skopeo copy --all</c>, byte for byte.</item>
/// <item><c>multi:list</c>: the arm64 + amd64 entries (no attestation: skopeo cannot convert in-toto layers) as a
/// Docker manifest list, <c>skopeo copy --all --format v2s2</c>.</item>
/// <item><c>zstd:latest</c>: the busybox layers recompressed with the <c>zstd</c> tool, media type tar+zstd, and its
/// own config (busybox's plus a label, so its ID differs); hand-written manifest.</item>
/// <item><c>corrupt:latest</c>: a tiny linux/amd64 image whose one layer's bytes in the registry's storage are
/// overwritten after the push: the registry serves them under the original digest, a client must refuse them.</item>
/// </list>
/// The OCI layout is built once per test process (shared, read-only); each fixture pushes it to its own registry.
/// </summary>
public sealed class RegistryImages
{
    public const string Motd = "hello from layer 2\n";

    /// <summary>In the first busybox layer, deleted by a whiteout in the second.</summary>
    public const string RemovedFile = "etc/removeme";

    public const string ZstdLabel = "minidock.test.image";

    public static readonly string[] Applets = ["sh", "ls", "cat", "echo", "true", "false", "env", "id", "sleep", "uname"];

    private static readonly Lazy<string> SharedLayout = new(BuildLayout, LazyThreadSafetyMode.ExecutionAndPublication);

    private RegistryImages(RegistryFixture r)
    {
        BusyboxOci = PushedManifest.Read(r, "busybox", "oci");
        BusyboxV2s2 = PushedManifest.Read(r, "busybox", "v2s2");
        Multi = PushedManifest.Read(r, "multi", "latest");
        MultiList = PushedManifest.Read(r, "multi", "list");
        Zstd = PushedManifest.Read(r, "zstd", "latest");
        Corrupt = PushedManifest.Read(r, "corrupt", "latest");
        All = new Dictionary<string, PushedManifest>
        {
            ["busybox:oci"] = BusyboxOci,
            ["busybox:v2s2"] = BusyboxV2s2,
            ["multi:latest"] = Multi,
            ["multi:list"] = MultiList,
            ["zstd:latest"] = Zstd,
            ["corrupt:latest"] = Corrupt,
        };
    }

    /// <summary>The OCI image layout every fixture pushes from (tags: oci, multi, multi-list, zstd, corrupt).</summary>
    public static string LayoutDir => SharedLayout.Value;

    public PushedManifest BusyboxOci { get; }

    public PushedManifest BusyboxV2s2 { get; }

    public PushedManifest Multi { get; }

    public PushedManifest MultiArm64 => Multi.Child("linux/arm64/v8");

    public PushedManifest MultiAttestation => Multi.Child("unknown/unknown");

    public PushedManifest MultiAmd64 => Multi.Child("linux/amd64");

    public PushedManifest MultiList { get; }

    public PushedManifest MultiListArm64 => MultiList.Child("linux/arm64/v8");

    public PushedManifest MultiListAmd64 => MultiList.Child("linux/amd64");

    public PushedManifest Zstd { get; }

    /// <summary>Its layer's stored bytes do not match the layer digest (see <see cref="RegistryImages"/>).</summary>
    public PushedManifest Corrupt { get; }

    /// <summary>Every tagged image by "REPO:TAG".</summary>
    public IReadOnlyDictionary<string, PushedManifest> All { get; }

    public static string Sha256Digest(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256Digest(Stream s) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(s));

    /// <summary>Pushes the shared layout to the registry, reads every manifest back, then corrupts corrupt:latest's layer.</summary>
    internal static RegistryImages Push(RegistryFixture registry)
    {
        var layout = LayoutDir;
        string[] tls = ["--dest-tls-verify=false"];
        registry.SkopeoOk(["copy", "-q", .. tls, $"oci:{layout}:oci", registry.DockerRef("busybox:oci")]);
        registry.SkopeoOk(["copy", "-q", .. tls, "--format", "v2s2", $"oci:{layout}:oci", registry.DockerRef("busybox:v2s2")]);
        registry.SkopeoOk(["copy", "-q", .. tls, "--all", $"oci:{layout}:multi", registry.DockerRef("multi:latest")]);
        registry.SkopeoOk(["copy", "-q", .. tls, "--all", "--format", "v2s2", $"oci:{layout}:multi-list", registry.DockerRef("multi:list")]);
        registry.SkopeoOk(["copy", "-q", .. tls, $"oci:{layout}:corrupt", registry.DockerRef("corrupt:latest")]);

        // Last: skopeo's blob-info cache remembers compressed variants; nothing gzip is pushed after the zstd blobs.
        registry.SkopeoOk(["copy", "-q", .. tls, $"oci:{layout}:zstd", registry.DockerRef("zstd:latest")]);

        var images = new RegistryImages(registry);
        var layer = images.Corrupt.Layers.Single();
        var data = registry.BlobDataPath(layer.Digest);
        var bytes = File.ReadAllBytes(data);
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] ^= 0x5a;
        }

        File.WriteAllBytes(data, bytes);
        return images;
    }

    /// <summary>Builds the OCI layout once per test process (removed when the process exits).</summary>
    private static string BuildLayout()
    {
        var root = ProcessTempDir("minidock-registry-layout-");

        var layout = Path.Combine(root, "layout");
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("busybox-static not installed (/bin/busybox)");

        // busybox:oci with umoci: layer 1 = busybox + applets + /etc/removeme; layer 2 = /etc/motd + whiteout.
        Umoci(root, "init", "--layout", layout);
        Umoci(root, "new", "--image", $"{layout}:base");
        var b1 = Path.Combine(root, "b1");
        Umoci(root, "unpack", "--image", $"{layout}:base", b1);
        var rootfs = Path.Combine(b1, "rootfs");
        foreach (var d in new[] { "bin", "etc", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        }

        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in Applets)
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        File.WriteAllText(Path.Combine(rootfs, RemovedFile), "removed by the second layer\n");
        Umoci(root, "repack", "--image", $"{layout}:base", b1);
        var b2 = Path.Combine(root, "b2");
        Umoci(root, "unpack", "--image", $"{layout}:base", b2);
        File.WriteAllText(Path.Combine(b2, "rootfs", "etc", "motd"), Motd);
        File.Delete(Path.Combine(b2, "rootfs", RemovedFile));
        Umoci(root, "repack", "--image", $"{layout}:oci", b2);
        Umoci(root, "config", "--image", $"{layout}:oci", "--config.cmd", "/bin/sh", "--config.env", "PATH=/bin", "--config.workingdir", "/");
        Umoci(root, "gc", "--layout", layout);

        var oci = ReadTagged(layout, "oci");
        var ociDesc = TaggedDescriptor(layout, "oci");

        // multi: arm64 (fake) first, an attestation-like unknown/unknown entry, amd64 (= busybox:oci) last.
        var armLayer = AddBlob(layout, TarGz(("etc/arch", "arm64\n")), MediaTypes.OciLayerGzip);
        var armConfig = AddJsonBlob(layout, MediaTypes.OciConfig, new JsonObject
        {
            ["architecture"] = "arm64",
            ["variant"] = "v8",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/bin/sh") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(DiffId(layout, armLayer.Digest)) },
        });
        var armManifest = AddManifest(layout, armConfig, [armLayer]);

        var statement = AddJsonBlob(layout, MediaTypes.InToto, new JsonObject
        {
            ["_type"] = "https://in-toto.io/Statement/v0.1",
            ["predicateType"] = "https://slsa.dev/provenance/v0.2",
            ["subject"] = new JsonArray(new JsonObject { ["name"] = "multi", ["digest"] = new JsonObject { ["sha256"] = RegistryFixture.Hex(ociDesc.Digest) } }),
        });
        var attConfig = AddJsonBlob(layout, MediaTypes.OciConfig, new JsonObject
        {
            ["architecture"] = "unknown",
            ["os"] = "unknown",
            ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(statement.Digest) },
        });
        var attManifest = AddManifest(layout, attConfig, [statement], layerAnnotations: new JsonObject { ["in-toto.io/predicate-type"] = "https://slsa.dev/provenance/v0.2" });

        var armEntry = Entry(armManifest, new JsonObject { ["architecture"] = "arm64", ["os"] = "linux", ["variant"] = "v8" });
        var attEntry = Entry(attManifest, new JsonObject { ["architecture"] = "unknown", ["os"] = "unknown" });
        attEntry["annotations"] = new JsonObject
        {
            ["vnd.docker.reference.type"] = "attestation-manifest",
            ["vnd.docker.reference.digest"] = ociDesc.Digest,
        };
        var amdEntry = Entry(ociDesc, new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" });
        Tag(layout, "multi", AddJsonBlob(layout, MediaTypes.OciIndex, Index(armEntry, attEntry, amdEntry)));
        Tag(layout, "multi-list", AddJsonBlob(layout, MediaTypes.OciIndex, Index(armEntry.DeepClone(), amdEntry.DeepClone())));

        // zstd: busybox's layers decompressed and recompressed by the zstd tool; busybox's config plus a label.
        var zstdLayers = oci["layers"]!.AsArray().Select(l => AddBlob(layout, ZstdCompress(root, Gunzip(BlobPath(layout, (string)l!["digest"]!))), MediaTypes.OciLayerZstd)).ToList();
        var zstdConfigJson = JsonNode.Parse(File.ReadAllText(BlobPath(layout, (string)oci["config"]!["digest"]!)))!.AsObject();
        zstdConfigJson["config"]!["Labels"] = new JsonObject { [ZstdLabel] = "zstd" };
        Tag(layout, "zstd", AddManifest(layout, AddJsonBlob(layout, MediaTypes.OciConfig, zstdConfigJson), zstdLayers));

        // corrupt: a tiny amd64 image with a layer of its own (its stored bytes are spoiled after the push).
        var badLayer = AddBlob(layout, TarGz(("etc/corrupt", "this layer is spoiled in the registry\n")), MediaTypes.OciLayerGzip);
        var badConfig = AddJsonBlob(layout, MediaTypes.OciConfig, new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/bin/sh") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(DiffId(layout, badLayer.Digest)) },
        });
        Tag(layout, "corrupt", AddManifest(layout, badConfig, [badLayer]));
        return layout;
    }

    /// <summary>A temp dir that lives as long as the test process (layouts shared by every fixture).</summary>
    internal static string ProcessTempDir(string prefix)
    {
        var root = Directory.CreateTempSubdirectory(prefix).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };
        return root;
    }

    internal static void Umoci(string ioDir, params string[] args)
    {
        var r = ProcessRunner.Run("umoci", args, RegistryFixture.CommandTimeout, ioDir: ioDir);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("umoci failed: " + r.Describe());
        }
    }

    private static string BlobPath(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", RegistryFixture.Hex(digest));

    private static Descriptor AddBlob(string layout, byte[] bytes, string mediaType)
    {
        var digest = Sha256Digest(bytes);
        File.WriteAllBytes(BlobPath(layout, digest), bytes);
        return new Descriptor(mediaType, digest, bytes.Length);
    }

    private static Descriptor AddJsonBlob(string layout, string mediaType, JsonNode json) =>
        AddBlob(layout, Encoding.UTF8.GetBytes(json.ToJsonString()), mediaType);

    private static Descriptor AddManifest(string layout, Descriptor config, IReadOnlyList<Descriptor> layers, JsonObject? layerAnnotations = null)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = Json(config),
            ["layers"] = new JsonArray([.. layers.Select(l =>
            {
                var j = Json(l);
                if (layerAnnotations is not null)
                {
                    j["annotations"] = layerAnnotations.DeepClone();
                }

                return (JsonNode)j;
            })]),
        };
        return AddJsonBlob(layout, MediaTypes.OciManifest, manifest);
    }

    private static JsonObject Json(Descriptor d) => new() { ["mediaType"] = d.MediaType, ["digest"] = d.Digest, ["size"] = d.Size };

    private static JsonObject Entry(Descriptor d, JsonObject platform)
    {
        var j = Json(d);
        j["platform"] = platform;
        return j;
    }

    private static JsonObject Index(params JsonNode[] entries) => new()
    {
        ["schemaVersion"] = 2,
        ["mediaType"] = MediaTypes.OciIndex,
        ["manifests"] = new JsonArray(entries),
    };

    /// <summary>Adds (or replaces) "org.opencontainers.image.ref.name": TAG in the layout's index.json.</summary>
    private static void Tag(string layout, string tag, Descriptor d)
    {
        var path = Path.Combine(layout, "index.json");
        var index = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var manifests = index["manifests"]!.AsArray();
        foreach (var old in manifests.Where(m => (string?)m!["annotations"]?["org.opencontainers.image.ref.name"] == tag).ToList())
        {
            manifests.Remove(old);
        }

        var entry = Json(d);
        entry["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        manifests.Add(entry);
        File.WriteAllText(path, index.ToJsonString());
    }

    private static Descriptor TaggedDescriptor(string layout, string tag)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        var e = index["manifests"]!.AsArray().Single(m => (string?)m!["annotations"]?["org.opencontainers.image.ref.name"] == tag)!;
        return new Descriptor((string)e["mediaType"]!, (string)e["digest"]!, (long)e["size"]!);
    }

    private static JsonObject ReadTagged(string layout, string tag) =>
        JsonNode.Parse(File.ReadAllText(BlobPath(layout, TaggedDescriptor(layout, tag).Digest)))!.AsObject();

    private static string DiffId(string layout, string gzipDigest) => Sha256Digest(Gunzip(BlobPath(layout, gzipDigest)));

    private static byte[] Gunzip(string path)
    {
        using var input = File.OpenRead(path);
        using var gz = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        gz.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] ZstdCompress(string workDir, byte[] tar)
    {
        var input = Path.Combine(workDir, "zstd-in.tar");
        var output = input + ".zst";
        File.WriteAllBytes(input, tar);
        var r = ProcessRunner.Run("zstd", ["-q", "-f", "-3", input, "-o", output], RegistryFixture.CommandTimeout, ioDir: workDir);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("zstd failed (apt-get install -y zstd): " + r.Describe());
        }

        var bytes = File.ReadAllBytes(output);
        File.Delete(input);
        File.Delete(output);
        return bytes;
    }

    /// <summary>A gzip'd tar with the parent dirs of the given files, root-owned, mtime 0.</summary>
    private static byte[] TarGz(params (string Path, string Content)[] files)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax, leaveOpen: true))
        {
            var dirs = files.Select(f => Path.GetDirectoryName(f.Path)!).Where(d => d.Length > 0).Distinct();
            foreach (var d in dirs)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, d + "/")
                {
                    Mode = (UnixFileMode)0b111_101_101,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                });
            }

            foreach (var (path, content) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    Mode = (UnixFileMode)0b110_100_100,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                });
            }
        }

        return ms.ToArray();
    }
}
