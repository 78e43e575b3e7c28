using System.Net;
using MiniDock.Containers.Networks.Dns;

namespace MiniDock.Containers.Tests.Networks.Dns;

/// <summary>The names file the engine writes for a network's DNS server, and its re-reading when it is replaced.</summary>
public sealed class NameTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("names-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Each_line_maps_its_names_to_its_address_ignoring_comments_and_blank_lines()
    {
        var table = NameTable.Parse("# network front\n\n10.78.0.2 web 3f2a9c1b7d4e\r\n  10.78.0.3\tdb\tDatabase # the primary\n#10.78.0.9 old\n");
        Assert.Equal(4, table.Count);
        Assert.Equal([IPAddress.Parse("10.78.0.2")], table.Lookup("web"));
        Assert.Equal([IPAddress.Parse("10.78.0.2")], table.Lookup("3f2a9c1b7d4e"));
        Assert.Equal([IPAddress.Parse("10.78.0.3")], table.Lookup("database"));
        Assert.Empty(table.Lookup("old"));
        Assert.Empty(table.Lookup("nope"));
    }

    [Theory]
    [InlineData("web")]
    [InlineData("WEB")]
    [InlineData("Web.")]
    public void Lookup_ignores_case_and_one_trailing_dot(string name)
        => Assert.Equal([IPAddress.Parse("10.78.0.2")], NameTable.Parse("10.78.0.2 wEb\n").Lookup(name));

    [Fact]
    public void No_search_domain_is_tried_and_only_one_trailing_dot_goes()
    {
        var table = NameTable.Parse("10.78.0.2 web\n");
        Assert.Empty(table.Lookup("web.example"));
        Assert.Empty(table.Lookup("web.."));
        Assert.Empty(table.Lookup("we"));
    }

    [Fact]
    public void A_name_on_several_lines_gets_every_address_once()
    {
        var table = NameTable.Parse("10.78.0.2 web api\n10.78.0.3 api\n10.78.0.2 API\n");
        Assert.Equal([IPAddress.Parse("10.78.0.2"), IPAddress.Parse("10.78.0.3")], table.Lookup("api"));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Lines_that_do_not_start_with_an_address_are_skipped_not_fatal()
    {
        var table = NameTable.Parse("web 10.78.0.2\n10 short\n10.78.0.5\n999.1.1.1 bad\n10.78.0.4 ok\nfd00::4 six\n");
        Assert.Equal(2, table.Count);
        Assert.Equal([IPAddress.Parse("10.78.0.4")], table.Lookup("ok"));
        Assert.Equal([IPAddress.Parse("fd00::4")], table.Lookup("six"));
        Assert.Empty(table.Lookup("short"));
        Assert.Empty(table.Lookup("10.78.0.2"));
    }

    [Fact]
    public void An_empty_text_and_a_missing_file_are_empty_tables()
    {
        Assert.Equal(0, NameTable.Parse("").Count);
        Assert.Equal(0, NameTable.Load(Path.Combine(_dir, "missing")).Count);
        Assert.Equal(0, NameTable.Load(Path.Combine(_dir, "no-dir", "names")).Count);
    }

    [Fact]
    public void Load_reads_the_file()
    {
        var path = Path.Combine(_dir, "names");
        File.WriteAllText(path, "10.78.0.2 web\n");
        Assert.Equal([IPAddress.Parse("10.78.0.2")], NameTable.Load(path).Lookup("web"));
    }

    [Fact]
    public void The_cache_rereads_only_a_changed_file_even_one_of_the_same_size_renamed_over_it()
    {
        var path = Path.Combine(_dir, "names");
        var cache = new NameTableCache(path);
        Assert.Equal(0, cache.Current.Count);

        Replace(path, "10.78.0.2 web\n");
        var first = cache.Current;
        Assert.Equal([IPAddress.Parse("10.78.0.2")], first.Lookup("web"));
        Assert.Same(first, cache.Current);

        // Same length, possibly the same time stamp: the rename gives it another inode.
        Replace(path, "10.78.0.7 web\n");
        Assert.Equal([IPAddress.Parse("10.78.0.7")], cache.Current.Lookup("web"));

        File.Delete(path);
        Assert.Equal(0, cache.Current.Count);
    }

    /// <summary>As the engine writes it: a temporary file renamed over the old one.</summary>
    internal static void Replace(string path, string text)
    {
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
