using System.Text;
using System.Text.Json;
using MiniDock.Images.Content;
using MiniDock.Images.Metadata;
using MiniDock.Images.Unpack;
using MiniDock.Registry;

namespace MiniDock.Images;

/// <summary>A tagged image as `images` lists it.</summary>
public sealed record ImageListing(string Repository, string Tag, string Id, string ManifestDigest, DateTime? Created, long Size);

/// <summary>
/// What is kept on disk for images, behind the CLI: pull = resolve → download (concurrently,
/// resuming, verified) → commit → record, with every database write of one pull in one
/// transaction at the end, so a pull killed at any point leaves nothing half-recorded.
/// </summary>
public sealed class ImageService(IRegistryClient registry, IContentStore content, ImageDb db, LayerStore layerStore, RegistryMirrors? mirrors = null)
{
    /// <summary>Default layer downloads at once: what containerd and dockerd use.</summary>
    public const int DefaultConcurrency = 3;

    /// <summary>
    /// Pulls <paramref name="reference"/>. Docker Hub references try each configured mirror first, in
    /// order, and fall back to Docker Hub (as dockerd does with daemon.json's registry-mirrors); the
    /// image is recorded under its docker.io name wherever its bytes came from.
    /// </summary>
    public async Task<ImageRecord> PullAsync(Reference reference, Platform platform, int concurrency, IPullProgress progress, CancellationToken ct)
    {
        if (reference.Registry == Reference.DockerHub && mirrors is { Hosts.Count: > 0 })
        {
            foreach (var host in mirrors.Hosts)
            {
                try
                {
                    return await PullFromAsync(reference with { Registry = host }, reference, platform, concurrency, progress, ct).ConfigureAwait(false);
                }
                catch (RegistryException)
                {
                    // This mirror lacks the image or is down: the next one, then Docker Hub itself.
                }
            }
        }

        return await PullFromAsync(reference, reference, platform, concurrency, progress, ct).ConfigureAwait(false);
    }

    private async Task<ImageRecord> PullFromAsync(Reference source, Reference reference, Platform platform, int concurrency, IPullProgress progress, CancellationToken ct)
    {
        var resolved = await registry.ResolveAsync(source, platform, ct).ConfigureAwait(false);
        progress.Resolved(reference.ToString(), resolved.ManifestDigest, resolved.Layers.Count);
        await content.WriteAsync(resolved.ManifestBytes, resolved.ManifestDigest, ct).ConfigureAwait(false);

        byte[] configBytes;
        if (content.Has(resolved.Config.Digest))
        {
            configBytes = await File.ReadAllBytesAsync(content.BlobPath(resolved.Config.Digest), ct).ConfigureAwait(false);
        }
        else
        {
            configBytes = await registry.GetBlobBytesAsync(source, resolved.Config, ct).ConfigureAwait(false);
            await content.WriteAsync(configBytes, resolved.Config.Digest, ct).ConfigureAwait(false);
        }

        var config = ImageConfig.Parse(configBytes);
        if (config.DiffIds.Count != resolved.Layers.Count)
        {
            throw new ImageException($"image config lists {config.DiffIds.Count} diff_ids but the manifest has {resolved.Layers.Count} layers");
        }

        // Each layer unpacks WHILE it downloads (from the growing ingest file), several layers at once, and
        // is published only when both its blob digest and its DiffID are verified (docs/performance.md, "Unpack").
        // Largest first: the biggest layer is the longest download and unpack, so it must not wait for a slot
        // behind small ones (the gate's waiters are served in order). Progress lists them in manifest order.
        var chain = ChainId.Compute(config.DiffIds);
        using var gate = new SemaphoreSlim(Math.Max(1, concurrency));
        foreach (var layer in resolved.Layers)
        {
            progress.Layer(layer.Digest, layer.Size, LayerState.Waiting);
        }

        // A layer may hardlink a file of a layer below it (image-spec layer.md "Hardlinks"); layers unpack
        // concurrently, so such an unpack waits until every layer below it is published (it never waits for a
        // layer above it: no cycle). Each layer's task says when it is published, or why it is not.
        var pulls = new Task[resolved.Layers.Count];
        var published = new TaskCompletionSource[pulls.Length];
        for (var i = 0; i < published.Length; i++)
        {
            published[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        foreach (var i in Enumerable.Range(0, pulls.Length).OrderByDescending(i => resolved.Layers[i].Size))
        {
            pulls[i] = Signal(PullLayerAsync(source, resolved.Layers[i], config.DiffIds[i], chain[i], LowerDirs(i), gate, progress, ct), published[i]);
        }

        await Task.WhenAll(pulls).ConfigureAwait(false);

        // Blocks the extraction thread that asks (at most once per layer, only for a hardlink out of its layer).
        Func<CancellationToken, IReadOnlyList<string>>? LowerDirs(int i) => i == 0 ? null : token =>
        {
            try
            {
                Task.WhenAll(published.Take(i).Select(p => p.Task)).Wait(token);
            }
            catch (AggregateException e)
            {
                throw new InvalidDataException($"a layer below this one could not be unpacked: {e.InnerExceptions[0].Message}");
            }

            return Enumerable.Range(0, i).Reverse().Select(k => layerStore.PathOf(chain[k])).ToList();
        };

        static async Task Signal(Task pull, TaskCompletionSource done)
        {
            try
            {
                await pull.ConfigureAwait(false);
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
                throw;
            }
        }

        var image = new ImageRecord
        {
            Id = resolved.Config.Digest,
            ManifestDigest = resolved.ManifestDigest,
            ManifestMediaType = resolved.ManifestMediaType,
            IndexDigest = resolved.IndexDigest,
            Created = config.Created?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            Size = resolved.Config.Size + resolved.Layers.Sum(l => l.Size),
            Os = config.Os,
            Architecture = config.Architecture,
            Variant = config.Variant,
        };
        var layers = resolved.Layers.Select((l, i) => new LayerRecord
        {
            ImageId = image.Id,
            Position = i,
            Digest = l.Digest,
            MediaType = l.MediaType,
            Size = l.Size,
            DiffId = config.DiffIds[i],
            ChainId = chain[i],
        }).ToList();
        db.RecordPull(image, layers, reference.Digest is null ? reference.ToString() : null);
        return image;
    }

    /// <summary>
    /// One layer: download (at most <paramref name="gate"/>'s count at once) and unpack. When this pull downloads
    /// the blob and the layer is not unpacked yet, the unpack streams from the ingest file as the bytes arrive
    /// (<see cref="IngestTail"/>) instead of waiting for the download, the sha256 check and the fsync; it is
    /// published only after the blob verified, and the DiffID is checked as always. Otherwise (the blob is
    /// there already, or another process downloaded it) the layer is unpacked from the committed blob.
    /// </summary>
    private async Task PullLayerAsync(Reference reference, Descriptor layer, string diffId, string chainId, Func<CancellationToken, IReadOnlyList<string>>? lowerDirs, SemaphoreSlim gate, IPullProgress progress, CancellationToken ct)
    {
        PendingLayer? pending = null;
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            pending = await FetchLayerAsync(reference, layer, layerStore.Has(chainId) ? null : chainId, progress, ct).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }

        if (pending is null && layerStore.Has(chainId))
        {
            return;
        }

        progress.Layer(layer.Digest, layer.Size, LayerState.Extracting);
        try
        {
            if (pending is not null)
            {
                await layerStore.FinishAsync(pending, content.BlobPath(layer.Digest), layer.MediaType, diffId, chainId, ct, lowerDirs).ConfigureAwait(false);
            }
            else
            {
                await layerStore.UnpackAsync(content.BlobPath(layer.Digest), layer.MediaType, diffId, chainId, ct, lowerDirs).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is Native.SysException or InvalidDataException or NotSupportedException)
        {
            // The extractor names the tar entry; the layer is named here: one line for the user (exit 125).
            throw new ImageException($"layer {layer.Digest}: {e.Message}");
        }

        progress.Layer(layer.Digest, layer.Size, LayerState.Done);
    }

    /// <summary>
    /// Downloads and commits the blob unless it is there. With <paramref name="unpackAs"/>, a download done
    /// here also starts streaming the layer's unpack, returned pending (blob verified, not yet published).
    /// </summary>
    private async Task<PendingLayer?> FetchLayerAsync(Reference reference, Descriptor layer, string? unpackAs, IPullProgress progress, CancellationToken ct)
    {
        if (content.Has(layer.Digest))
        {
            progress.Layer(layer.Digest, layer.Size, LayerState.Exists);
            return null;
        }

        // One writer per digest, across processes: two pulls sharing a layer must not append to
        // the same ingest file at once. The second waits, then finds the blob committed.
        using var _ = await content.LockIngestAsync(layer.Digest, ct).ConfigureAwait(false);
        if (content.Has(layer.Digest))
        {
            progress.Layer(layer.Digest, layer.Size, LayerState.Exists);
            return null;
        }

        progress.Layer(layer.Digest, layer.Size, LayerState.Downloading);
        var ingest = content.IngestPath(layer.Digest);
        var tail = unpackAs is null ? null : new IngestTail(ingest);
        PendingLayer? pending = null;
        try
        {
            if (tail is not null)
            {
                tail.Bind(ct);
                pending = layerStore.BeginUnpack(tail, layer.MediaType, unpackAs!, ct);
            }

            await registry.DownloadBlobAsync(reference, layer, ingest, new SyncProgress(n =>
            {
                tail?.Report(n);
                progress.Bytes(layer.Digest, n);
            }), ct).ConfigureAwait(false);
            tail?.Complete(layer.Size);
            progress.Layer(layer.Digest, layer.Size, LayerState.Verifying);
            await content.CommitAsync(layer.Digest, layer.Size, ct).ConfigureAwait(false);
            progress.Layer(layer.Digest, layer.Size, LayerState.Downloaded);
            return pending;
        }
        catch (Exception e)
        {
            tail?.Fail(e);
            if (pending is not null)
            {
                await layerStore.AbandonAsync(pending).ConfigureAwait(false);
            }

            tail?.Dispose();
            throw;
        }
    }

    public IReadOnlyList<ImageListing> List()
    {
        var images = db.Images().ToDictionary(i => i.Id);
        var list = new List<ImageListing>();
        var tagged = new HashSet<string>();
        foreach (var (tag, id) in db.Tags())
        {
            if (!images.TryGetValue(id, out var img))
            {
                continue;
            }

            tagged.Add(id);
            var r = Reference.Parse(tag);
            list.Add(new ImageListing(r.FamiliarName, r.Tag ?? "<none>", id, img.ManifestDigest, Created(img), img.Size));
        }

        foreach (var img in images.Values.Where(i => !tagged.Contains(i.Id)))
        {
            list.Add(new ImageListing("<none>", "<none>", img.Id, img.ManifestDigest, Created(img), img.Size));
        }

        return list.OrderByDescending(l => l.Created).ThenBy(l => l.Repository, StringComparer.Ordinal).ToList();
    }

    public ImageRecord Find(string text) => db.Find(Normalize(text)) ?? db.Find(text) ?? throw new ImageException($"No such image: {text}");

    /// <summary>`image inspect`: the image record, its tags, layers and config, as one JSON object.</summary>
    public string Inspect(string text)
    {
        var img = Find(text);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("Id", img.Id);
            w.WriteStartArray("RepoTags");
            foreach (var t in db.TagsOf(img.Id))
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteString("ManifestDigest", img.ManifestDigest);
            w.WriteString("ManifestMediaType", img.ManifestMediaType);
            if (img.IndexDigest is { } idx)
            {
                w.WriteString("IndexDigest", idx);
            }

            w.WriteString("Created", img.Created);
            w.WriteString("Os", img.Os);
            w.WriteString("Architecture", img.Architecture);
            if (img.Variant is { } v)
            {
                w.WriteString("Variant", v);
            }

            w.WriteNumber("Size", img.Size);
            w.WriteStartArray("Layers");
            foreach (var l in db.Layers(img.Id))
            {
                w.WriteStartObject();
                w.WriteString("Digest", l.Digest);
                w.WriteString("MediaType", l.MediaType);
                w.WriteNumber("Size", l.Size);
                w.WriteString("DiffID", l.DiffId);
                w.WriteString("ChainID", l.ChainId);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (content.Has(img.Id))
            {
                w.WritePropertyName("Config");
                w.WriteRawValue(File.ReadAllBytes(content.BlobPath(img.Id)));
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// rmi: untag; when no tag is left (or the argument was an id), delete the image and the blobs
    /// nothing else refers to. Returns Docker-style "Untagged:"/"Deleted:" lines.
    /// </summary>
    /// <param name="text">What the user typed.</param>
    /// <param name="force">-f.</param>
    /// <param name="usedBy">The container using an image (and whether it runs), so its image is never deleted under it.</param>
    public IReadOnlyList<string> Remove(string text, bool force, Func<string, (string Container, bool Running)?>? usedBy = null)
    {
        var lines = new List<string>();
        var img = Find(text);
        var tags = db.TagsOf(img.Id);
        var byTag = tags.Contains(Normalize(text));
        var user = usedBy?.Invoke(img.Id);
        if (user is { } u && (!byTag || tags.Count == 1))
        {
            // Docker's rules: a container's image is kept; -f may only take its last tag while the container is stopped.
            if (u.Running)
            {
                throw new ImageException($"conflict: unable to delete {Short(img.Id)} (cannot be forced) - image is being used by running container {u.Container[..12]}");
            }

            if (!force)
            {
                throw new ImageException($"conflict: unable to remove repository reference \"{text}\" (must force) - container {u.Container[..12]} is using its referenced image {Short(img.Id)}");
            }

            foreach (var t in byTag ? [Normalize(text)] : tags)
            {
                if (db.Untag(t, out var freed) && freed is not null)
                {
                    content.Delete(freed);
                }

                lines.Add($"Untagged: {t}");
            }

            return lines;
        }

        if (byTag)
        {
            if (db.Untag(Normalize(text), out var released) && released is not null)
            {
                content.Delete(released);
            }

            lines.Add($"Untagged: {Reference.Parse(Normalize(text)).FamiliarName}:{Reference.Parse(Normalize(text)).Tag}");
            if (tags.Count > 1)
            {
                return lines;
            }
        }
        else if (tags.Count > 1 && !force)
        {
            throw new ImageException($"conflict: unable to delete {Short(img.Id)} (must be forced) - image is referenced in multiple repositories");
        }
        else
        {
            foreach (var t in tags)
            {
                lines.Add($"Untagged: {t}");
            }
        }

        RemoveUnused(img.Id);

        lines.Add($"Deleted: {img.Id}");
        return lines;
    }

    public void Tag(string source, string target)
    {
        var img = Find(source);
        var r = Reference.Parse(target);
        if (r.Digest is not null)
        {
            throw new ImageException($"refusing to create a tag with a digest reference: {target}");
        }

        db.RecordPull(img, db.Layers(img.Id), r.ToString());
    }

    /// <summary>`image prune`: images without a tag (with <paramref name="all"/>: every image), except those containers use.</summary>
    public IReadOnlyList<string> Prune(bool all, Func<string, bool>? inUse = null)
    {
        var ids = (all ? db.Images().Select(i => i.Id).ToList() : db.DanglingImages().ToList()).Where(id => inUse?.Invoke(id) != true).ToList();
        var lines = new List<string>();
        foreach (var id in ids)
        {
            foreach (var t in db.TagsOf(id))
            {
                lines.Add($"untagged: {t}");
            }

            RemoveUnused(id);

            lines.Add($"deleted: {id}");
        }

        return lines;
    }

    /// <summary>`system df`: images, and the bytes of the content store.</summary>
    public (int Images, long Size, long Reclaimable) DiskUsage()
    {
        var images = db.Images();
        var dangling = db.DanglingImages().ToHashSet();
        var total = content.List().Sum(content.Size);
        var reclaimable = images.Where(i => dangling.Contains(i.Id)).Sum(i => i.Size);
        return (images.Count, total, reclaimable);
    }

    /// <summary>
    /// Drops the image's rows, then every blob (config, manifests of all its tags, layers) and every
    /// unpacked layer directory that no other image uses any more.
    /// </summary>
    private void RemoveUnused(string imageId)
    {
        var chains = db.Layers(imageId).Select(l => l.ChainId).ToList();
        foreach (var blob in db.RemoveImage(imageId))
        {
            content.Delete(blob);
        }

        foreach (var chain in chains.Where(c => !db.IsChainReferenced(c)))
        {
            layerStore.Remove(chain);
        }
    }

    public static string Short(string id) => id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..19] : id[..Math.Min(12, id.Length)];

    private static DateTime? Created(ImageRecord img)
        => img.Created is { } c && DateTime.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var t) ? t : null;

    /// <summary>A name the user typed, in the form tags are stored ("alpine" → "docker.io/library/alpine:latest"); ids stay as they are.</summary>
    private static string Normalize(string text)
    {
        try
        {
            return text.StartsWith("sha256:", StringComparison.Ordinal) || (text.Length >= 4 && text.All(Uri.IsHexDigit)) ? text : Reference.Parse(text).ToString();
        }
        catch (ReferenceException)
        {
            return text;
        }
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

/// <summary>Docker Hub mirrors (daemon.json's <c>registry-mirrors</c>), as registry hosts, tried in order.</summary>
public sealed record RegistryMirrors(IReadOnlyList<string> Hosts)
{
    /// <summary>"https://mirror.example.com/" or "http://127.0.0.1:5000" → the host[:port] part.</summary>
    public static RegistryMirrors Parse(IEnumerable<string> urls)
        => new(urls.Select(u => u.Trim()).Where(u => u.Length > 0)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) ? uri.Authority : u.TrimEnd('/'))
            .ToList());
}

/// <summary>An image-store error meant for the user: one line, exit status 125.</summary>
public sealed class ImageException(string message) : Exception(message);
