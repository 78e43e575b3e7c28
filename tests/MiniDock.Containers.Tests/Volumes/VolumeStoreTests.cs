using System.Text.Json;
using MiniDock.Containers.Tests.Rootfs;
using MiniDock.Containers.Volumes;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Volumes;

/// <summary>Local volumes with Docker's semantics: create, inspect, list, remove, prune, and racing creators.</summary>
public sealed class VolumeStoreTests : IDisposable
{
    private static readonly Func<string, bool> Unused = _ => false;
    private readonly Scratch _tmp = new();

    public VolumeStoreTests() => Store = new VolumeStore(_tmp.Path);

    private VolumeStore Store { get; }

    private string Root => Path.Combine(_tmp.Path, "volumes");

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Create_MakesDataDirAndMetadata()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);

        var v = Store.Create("web-data");

        Assert.Equal("web-data", v.Name);
        Assert.Equal(Path.Combine(Root, "web-data", "_data"), v.Mountpoint);
        Assert.Equal(v.Mountpoint, Store.PathOf("web-data"));
        Assert.False(v.Anonymous);
        Assert.InRange(v.CreatedAt, before, DateTime.UtcNow);
        Assert.Equal(DateTimeKind.Utc, v.CreatedAt.Kind);
        var st = FsAt.LStat(v.Mountpoint)!.Value;
        Assert.True(st.IsDir);
        Assert.Equal(0x1EDu, st.Mode & 0xFFF);

        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "web-data", "volume.json")));
        var j = doc.RootElement;
        Assert.Equal("web-data", j.GetProperty("Name").GetString());
        Assert.Equal("local", j.GetProperty("Driver").GetString());
        Assert.Equal(v.Mountpoint, j.GetProperty("Mountpoint").GetString());
        Assert.Equal(v.CreatedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), j.GetProperty("CreatedAt").GetString());
        Assert.Equal(JsonValueKind.Object, j.GetProperty("Labels").ValueKind);
        Assert.Empty(j.GetProperty("Labels").EnumerateObject());
        Assert.False(j.GetProperty("Anonymous").GetBoolean());
        Assert.Equal(["web-data"], Directory.EnumerateFileSystemEntries(Root).Select(Path.GetFileName));
        Assert.Equal(["_data", "volume.json"], Directory.EnumerateFileSystemEntries(Path.Combine(Root, "web-data")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Create_WithoutName_GivesA64HexName()
    {
        var v = Store.Create(null, anonymous: true);

        Assert.Matches("^[0-9a-f]{64}$", v.Name);
        Assert.True(v.Anonymous);
        Assert.Equal(v, Store.Get(v.Name));
        Assert.NotEqual(v.Name, Store.Create(null).Name);
    }

    [Fact]
    public void Create_OfAnExistingName_ReturnsIt()
    {
        var first = Store.Create("shared", anonymous: true);
        File.WriteAllText(Path.Combine(first.Mountpoint, "content"), "kept");

        var again = Store.Create("shared");

        Assert.Equal(first, again);
        Assert.True(again.Anonymous);
        Assert.Equal("kept", File.ReadAllText(Path.Combine(again.Mountpoint, "content")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("-leading-dash")]
    [InlineData(".hidden")]
    [InlineData("_under")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("../escape")]
    [InlineData("with space")]
    [InlineData("ünïcode")]
    [InlineData("colon:name")]
    public void InvalidNames_AreRefused(string name)
    {
        var e = Assert.Throws<VolumeException>(() => Store.Create(name));

        Assert.Contains("includes invalid characters for a local volume name", e.Message, StringComparison.Ordinal);
        Assert.Throws<VolumeException>(() => Store.PathOf(name));
        Assert.Null(Store.Get(name));
        Assert.False(Directory.Exists(Root) && Directory.EnumerateFileSystemEntries(Root).Any());
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("0x")]
    [InlineData("my_vol.v2-final")]
    [InlineData("9lives")]
    [InlineData("a..b")]
    public void ValidNames_AreAccepted(string name)
    {
        Assert.Equal(name, Store.Create(name).Name);
        Assert.Equal(name, Store.Get(name)!.Name);
    }

    [Fact]
    public void Get_OfAMissingVolume_IsNull()
    {
        Assert.Null(Store.Get("nope"));
        Store.Create("yes");
        Assert.Null(Store.Get("nope"));
    }

    [Fact]
    public void List_IsSortedByName_AndSkipsLeftovers()
    {
        Assert.Empty(Store.List());
        Store.Create("zeta");
        Store.Create("alpha");
        Store.Create("Mid");
        Directory.CreateDirectory(Path.Combine(Root, ".tmp-beta-0123/_data"));
        Directory.CreateDirectory(Path.Combine(Root, ".rm-gamma-0123/_data"));

        Assert.Equal(["Mid", "alpha", "zeta"], Store.List().Select(v => v.Name));
    }

    [Fact]
    public void Remove_DeletesTheVolumeAndItsData_WithoutFollowingSymlinks()
    {
        var outside = _tmp.Sub("host");
        File.WriteAllText(Path.Combine(outside, "precious"), "keep");
        var v = Store.Create("data");
        File.CreateSymbolicLink(Path.Combine(v.Mountpoint, "escape"), outside);
        Directory.CreateDirectory(Path.Combine(v.Mountpoint, "deep/er"));
        File.SetUnixFileMode(Path.Combine(v.Mountpoint, "deep"), UnixFileMode.None);

        Store.Remove("data", Unused);

        Assert.Null(Store.Get("data"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "precious")));
    }

    [Fact]
    public void Remove_OfAVolumeInUse_IsRefused()
    {
        Store.Create("busy");

        var e = Assert.Throws<VolumeException>(() => Store.Remove("busy", n => n == "busy"));

        Assert.Equal("remove busy: volume is in use", e.Message);
        Assert.NotNull(Store.Get("busy"));
    }

    [Fact]
    public void Remove_OfAMissingVolume_IsRefused()
    {
        var e = Assert.Throws<VolumeException>(() => Store.Remove("ghost", Unused));

        Assert.Equal("no such volume: ghost", e.Message);
    }

    [Fact]
    public void Prune_RemovesOnlyUnusedAnonymousVolumes_UnlessAll()
    {
        var anonUnused = Store.Create(null, anonymous: true).Name;
        var anonUsed = Store.Create(null, anonymous: true).Name;
        Store.Create("named-unused");
        Store.Create("named-used");
        bool InUse(string n) => n == anonUsed || n == "named-used";

        Assert.Equal([anonUnused], Store.Prune(InUse, all: false));
        Assert.Equal(new[] { anonUsed, "named-unused", "named-used" }.Order(StringComparer.Ordinal), Store.List().Select(v => v.Name));

        Assert.Equal(["named-unused"], Store.Prune(InUse, all: true));
        Assert.Equal(new[] { anonUsed, "named-used" }.Order(StringComparer.Ordinal), Store.List().Select(v => v.Name));

        Assert.Empty(Store.Prune(InUse, all: true));
        Assert.Equal(2, Store.Prune(Unused, all: true).Count);
        Assert.Empty(Store.List());
    }

    [Fact]
    public void Prune_OfAnEmptyStore_RemovesNothing()
    {
        Assert.Empty(Store.Prune(Unused, all: true));
    }

    [Fact]
    public void ConcurrentCreatesOfOneName_AllSucceedAndAgree()
    {
        const int threads = 32;
        var results = new VolumeInfo[threads];
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            // Each thread its own store object, as separate processes would have.
            var store = new VolumeStore(_tmp.Path);
            start.SignalAndWait();
            results[i] = store.Create("raced", anonymous: i % 2 == 0);
        })).ToList();

        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.All(results, r => Assert.Equal(results[0], r));
        Assert.Equal(results[0], Store.Get("raced"));
        Assert.Equal(["raced"], Directory.EnumerateFileSystemEntries(Root).Select(Path.GetFileName));
    }

    [Fact]
    public void ConcurrentCreatesOfManyNames_AllAppear()
    {
        Parallel.For(0, 64, i => new VolumeStore(_tmp.Path).Create($"vol{i % 16:D2}"));

        Assert.Equal(Enumerable.Range(0, 16).Select(i => $"vol{i:D2}"), Store.List().Select(v => v.Name));
        Assert.Equal(16, Directory.EnumerateFileSystemEntries(Root).Count());
    }

    [Fact]
    public void AVolumeWithDamagedMetadata_IsStillListed()
    {
        var v = Store.Create("damaged");
        File.WriteAllText(Path.Combine(Root, "damaged", "volume.json"), "{not json");

        var again = Store.Get("damaged");

        Assert.NotNull(again);
        Assert.Equal(v.Mountpoint, again.Mountpoint);
        Assert.Equal(["damaged"], Store.List().Select(x => x.Name));
    }
}
