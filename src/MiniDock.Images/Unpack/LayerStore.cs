using MiniDock.Images.Content;

namespace MiniDock.Images.Unpack;

/// <summary>
/// Unpacked layers, one directory per layer under <c>DATA/layers/&lt;chain-id hex&gt;</c>, in overlay form,
/// ready to be stacked as lowerdirs. Keyed by ChainID (image-spec config.md#layer-chainid), so identical
/// layer stacks are unpacked once and shared. A layer is extracted into a temporary directory, its DiffID
/// checked against the image config, and only then renamed into place: a killed pull never leaves a
/// half-unpacked layer where a container could use it.
/// </summary>
public sealed class LayerStore(string dataRoot)
{
    public string Root { get; } = Path.Combine(dataRoot, "layers");

    public string PathOf(string chainId) => Path.Combine(Root, Digest.Hex(chainId));

    public bool Has(string chainId) => Directory.Exists(PathOf(chainId));

    /// <summary>Unpacks the blob at <paramref name="blobPath"/> as <paramref name="chainId"/>, unless it is there already.</summary>
    public async Task UnpackAsync(string blobPath, string mediaType, string diffId, string chainId, CancellationToken ct)
    {
        var target = PathOf(chainId);
        if (Directory.Exists(target))
        {
            return;
        }

        Directory.CreateDirectory(Root);
        var tmp = Path.Combine(Root, $".tmp-{Digest.Hex(chainId)[..12]}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        try
        {
            await using var reader = LayerReader.Open(File.OpenRead(blobPath), mediaType);
            var actual = await new LayerExtractor().ExtractAsync(reader.Tar, tmp, ct).ConfigureAwait(false);
            if (actual != diffId)
            {
                throw new ContentException(ContentError.DigestMismatch, $"layer {diffId}: the uncompressed tar hashes to {actual} (DiffID mismatch)");
            }

            try
            {
                Directory.Move(tmp, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                // Another pull unpacked the same layer first: theirs is as good as ours.
                DeleteTree(tmp);
            }
        }
        catch
        {
            DeleteTree(tmp);
            throw;
        }
    }

    /// <summary>Removes a layer directory (after the last image using it went away).</summary>
    public void Remove(string chainId) => DeleteTree(PathOf(chainId));

    /// <summary>Leftovers of killed unpacks.</summary>
    public void CleanTemporary()
    {
        if (Directory.Exists(Root))
        {
            foreach (var d in Directory.EnumerateDirectories(Root, ".tmp-*"))
            {
                DeleteTree(d);
            }
        }
    }

    private static void DeleteTree(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
