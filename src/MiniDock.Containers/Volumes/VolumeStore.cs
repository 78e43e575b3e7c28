using System.Security.Cryptography;
using MiniDock.Containers.Rootfs;
using MiniDock.Native;

namespace MiniDock.Containers.Volumes;

/// <summary>
/// Local named volumes, laid out as Docker's "local" driver does (moby volume/local): <c>DATA/volumes/NAME/_data</c>
/// is what containers mount, <c>DATA/volumes/NAME/volume.json</c> describes it. Docker keeps its metadata
/// in a bolt database; a file per volume lets several minidock processes share the store without a daemon.
/// </summary>
/// <remarks>
/// A volume appears in one atomic step: it is built (its <c>_data</c> and <c>volume.json</c>) in a temporary
/// directory beside the others and renamed to its name. Two processes creating the same name race only on
/// that rename; the loser finds the name taken (EEXIST/ENOTEMPTY), drops its copy and returns the winner's,
/// so both succeed and agree. Removal renames the volume away first, so a half-deleted volume never lists.
/// Temporary entries start with '.', which no valid name does.
/// </remarks>
public sealed class VolumeStore(string dataRoot)
{
    private const string DataDir = "_data";

    /// <summary><c>DATA/volumes</c>.</summary>
    public string Root { get; } = Path.Combine(Path.GetFullPath(dataRoot), "volumes");

    /// <summary>
    /// Creates volume <paramref name="name"/>, or a random 64-hex name when null. An existing name is
    /// returned as it is (Docker's <c>volume create</c> is idempotent; <paramref name="anonymous"/> then
    /// changes nothing). An invalid name throws <see cref="VolumeException"/>.
    /// </summary>
    public VolumeInfo Create(string? name, bool anonymous = false)
    {
        name ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        VolumeName.Check(name);
        if (Get(name) is { } existing)
        {
            return existing;
        }

        EnsureRoot();
        var tmp = Path.Combine(Root, $".tmp-{name}-{Guid.NewGuid():N}");
        var info = new VolumeInfo(name, PathOf(name), TruncateToSeconds(DateTime.UtcNow), anonymous);
        try
        {
            Directory.CreateDirectory(tmp);
            File.SetUnixFileMode(tmp, Mode755);
            var data = Path.Combine(tmp, DataDir);
            Directory.CreateDirectory(data);
            File.SetUnixFileMode(data, Mode755);
            VolumeMetadata.WriteAtomic(Path.Combine(tmp, VolumeMetadata.FileName), VolumeMetadata.Serialize(info));
            try
            {
                Directory.Move(tmp, Path.Combine(Root, name));
                return info;
            }
            catch (IOException) when (Directory.Exists(Path.Combine(Root, name)))
            {
                // EEXIST/ENOTEMPTY: another process (or thread) created it first; theirs is the volume.
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VolumeException($"create {name}: {e.Message}");
        }
        finally
        {
            TryRemove(tmp);
        }

        return Get(name) ?? throw new VolumeException($"create {name}: the volume was removed while it was being created");
    }

    /// <summary>The volume, or null when there is none by that name (an invalid name included).</summary>
    public VolumeInfo? Get(string name)
    {
        if (!VolumeName.IsValid(name))
        {
            return null;
        }

        var dir = Path.Combine(Root, name);
        if (!Directory.Exists(dir))
        {
            return null;
        }

        if (VolumeMetadata.Read(Path.Combine(dir, VolumeMetadata.FileName)) is { } meta)
        {
            return new VolumeInfo(name, PathOf(name), meta.CreatedAt, meta.Anonymous);
        }

        // No readable metadata (written by hand, or damaged): still a volume, as Docker treats a bare _data.
        return Directory.Exists(Path.Combine(dir, DataDir))
            ? new VolumeInfo(name, PathOf(name), TruncateToSeconds(Directory.GetCreationTimeUtc(dir)), Anonymous: false)
            : null;
    }

    /// <summary>Every volume, sorted by name (ordinal).</summary>
    public IReadOnlyList<VolumeInfo> List()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        var list = new List<VolumeInfo>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            if (Get(Path.GetFileName(dir)) is { } v)
            {
                list.Add(v);
            }
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>
    /// Removes a volume and its data. Refused when <paramref name="inUse"/> says a container (running or not)
    /// still refers to it, and when there is no such volume, with Docker's messages.
    /// </summary>
    public void Remove(string name, Func<string, bool> inUse)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        if (Get(name) is null)
        {
            throw new VolumeException($"no such volume: {name}");
        }

        if (inUse(name))
        {
            throw new VolumeException($"remove {name}: volume is in use");
        }

        Delete(name);
    }

    /// <summary>
    /// Removes unused volumes and returns their names. Since Docker 23 (API 1.42) a plain prune removes only
    /// anonymous volumes; <paramref name="all"/> (<c>--all</c>) removes named ones too. Leftovers of killed
    /// creates and removals older than an hour go as well.
    /// </summary>
    public IReadOnlyList<string> Prune(Func<string, bool> inUse, bool all)
    {
        ArgumentNullException.ThrowIfNull(inUse);
        var removed = new List<string>();
        foreach (var v in List())
        {
            if ((all || v.Anonymous) && !inUse(v.Name))
            {
                Delete(v.Name);
                removed.Add(v.Name);
            }
        }

        if (Directory.Exists(Root))
        {
            foreach (var dir in Directory.EnumerateDirectories(Root, ".*"))
            {
                if (Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddHours(-1))
                {
                    TryRemove(dir);
                }
            }
        }

        return removed;
    }

    /// <summary>The host directory a container mounts for <paramref name="name"/>; nothing is created (that is <see cref="Create"/>'s job).</summary>
    public string PathOf(string name)
    {
        VolumeName.Check(name);
        return Path.Combine(Root, name, DataDir);
    }

    private const UnixFileMode Mode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static DateTime TruncateToSeconds(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    /// <summary>Renames the volume out of sight, then deletes it without following anything a container left in it.</summary>
    private void Delete(string name)
    {
        var gone = Path.Combine(Root, $".rm-{name}-{Guid.NewGuid():N}");
        try
        {
            Directory.Move(Path.Combine(Root, name), gone);
        }
        catch (DirectoryNotFoundException)
        {
            return; // removed concurrently
        }
        catch (IOException e)
        {
            throw new VolumeException($"remove {name}: {e.Message}");
        }

        try
        {
            TreeRemover.Remove(gone);
        }
        catch (SysException e)
        {
            throw new VolumeException($"remove {name}: {e.Message}");
        }
    }

    /// <summary>DATA/volumes is 0701 like Docker's: containers' processes may reach a volume, not list them.</summary>
    private void EnsureRoot()
    {
        if (!Directory.Exists(Root))
        {
            Directory.CreateDirectory(Root);
            File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        }
    }

    private static void TryRemove(string path)
    {
        try
        {
            TreeRemover.Remove(path);
        }
        catch (Exception e) when (e is SysException or IOException or UnauthorizedAccessException)
        {
            // Prune removes leftovers later.
        }
    }
}
