using System.Net;
using MiniDock.Native;

namespace MiniDock.Containers.Networks.Dns;

/// <summary>
/// The names one network's DNS server answers for: the containers attached to it, by name, alias and short ID, as
/// Docker's embedded DNS resolves them. The engine keeps them in a text file (written to a temporary name and
/// renamed, so a reader sees the old file or the new one, never half of one), one line per endpoint:
/// <c>IPADDR NAME [NAME...]</c>, <c>#</c> to the end of a line a comment. A line that does not start with an
/// address is skipped rather than failing the whole table: one bad line must not make every name on the network
/// unresolvable. A name on several lines (an alias shared by several containers) gets all of their addresses.
/// </summary>
public sealed class NameTable
{
    public static readonly NameTable Empty = new(new Dictionary<string, IPAddress[]>(StringComparer.Ordinal));

    private readonly Dictionary<string, IPAddress[]> _names;

    private NameTable(Dictionary<string, IPAddress[]> names) => _names = names;

    /// <summary>How many distinct names the table answers for.</summary>
    public int Count => _names.Count;

    public static NameTable Parse(string text)
    {
        var names = new Dictionary<string, List<IPAddress>>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var hash = raw.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? raw[..hash] : raw;
            var fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !TryParseAddress(fields[0], out var address))
            {
                continue;
            }

            foreach (var field in fields.AsSpan(1))
            {
                var name = Normalize(field);
                if (name.Length == 0)
                {
                    continue;
                }

                if (!names.TryGetValue(name, out var list))
                {
                    names[name] = list = [];
                }

                if (!list.Contains(address))
                {
                    list.Add(address);
                }
            }
        }

        return new NameTable(names.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));
    }

    /// <summary>The table in <paramref name="path"/>; a missing file is an empty table (a network with no containers yet).</summary>
    public static NameTable Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Empty;
        }
    }

    /// <summary>
    /// The addresses of <paramref name="name"/> (IPv4 and IPv6 as the file has them), empty when the table does not
    /// have it. DNS names compare case-insensitively (RFC 1035 2.3.3) and a trailing dot only says the name is fully
    /// qualified, so both are ignored; no search domain is tried: the resolver in the container applies those.
    /// </summary>
    public IReadOnlyList<IPAddress> Lookup(string name)
        => _names.TryGetValue(Normalize(name), out var addresses) ? addresses : [];

    /// <summary>Lower case, one trailing dot removed: the form names are kept and looked up in.</summary>
    internal static string Normalize(string name)
    {
        var trimmed = name.EndsWith('.') ? name[..^1] : name;
        return trimmed.ToLowerInvariant();
    }

    /// <summary>
    /// A dotted-quad IPv4 or an IPv6 address. <see cref="IPAddress.TryParse(string, out IPAddress)"/> alone also
    /// takes the old short forms ("10" is 0.0.0.10), which in this file can only be a mistake.
    /// </summary>
    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (!text.Contains(':', StringComparison.Ordinal) && text.Count(c => c == '.') != 3)
        {
            return false;
        }

        if (!IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        address = parsed;
        return true;
    }
}

/// <summary>
/// A <see cref="NameTable"/> file read again only when it changed: its inode, size and modification time are
/// checked on every use (one lstat, far cheaper than a lookup that goes upstream), and a rename of a new file over
/// it changes the inode even when the size and the time stamp happen to be the same. When the file cannot be
/// read, the last table read stays in use: a passing permission or I/O error should not empty the network.
/// </summary>
public sealed class NameTableCache
{
    private readonly Lock _gate = new();
    private bool _loaded;
    private StatInfo? _stamp;
    private NameTable _table = NameTable.Empty;

    public NameTableCache(string path) => Path = path;

    public string Path { get; }

    /// <summary>The table as the file is now.</summary>
    public NameTable Current
    {
        get
        {
            StatInfo? stamp;
            try
            {
                stamp = FsAt.LStat(Path);
            }
            catch (SysException)
            {
                lock (_gate)
                {
                    return _table;
                }
            }

            lock (_gate)
            {
                if (_loaded && Same(stamp, _stamp))
                {
                    return _table;
                }

                try
                {
                    _table = stamp is null ? NameTable.Empty : NameTable.Load(Path);
                    _stamp = stamp;
                    _loaded = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Kept: the last table read (see the class's comment); the next use tries again.
                }

                return _table;
            }
        }
    }

    private static bool Same(StatInfo? a, StatInfo? b)
        => (a, b) switch
        {
            (null, null) => true,
            ({ } x, { } y) => x.Ino == y.Ino && x.Size == y.Size && x.MtimeSec == y.MtimeSec && x.MtimeNsec == y.MtimeNsec,
            _ => false,
        };
}
