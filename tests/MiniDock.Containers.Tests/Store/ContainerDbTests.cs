using MiniDock.Containers.Config;
using MiniDock.Containers.Store;

namespace MiniDock.Containers.Tests.Store;

public sealed class ContainerDbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-cdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ContainerRow Row(string id, string name) => new() { Id = id, Name = name, Image = "img", ImageId = "sha256:" + new string('a', 64), Created = DateTime.UtcNow.Ticks, Driver = "overlay" };

    [Fact]
    public void A_taken_name_is_Dockers_conflict_error_and_the_first_row_stays()
    {
        using var db = new ContainerDb(_dir);
        db.Insert(Row(new string('1', 64), "web"));

        var e = Assert.Throws<ContainerException>(() => db.Insert(Row(new string('2', 64), "web")));

        Assert.Contains("The container name \"/web\" is already in use by container \"" + new string('1', 64), e.Message, StringComparison.Ordinal);
        Assert.Single(db.All());
    }

    [Fact]
    public void Find_takes_full_id_then_name_then_a_unique_prefix()
    {
        using var db = new ContainerDb(_dir);
        db.Insert(Row("ab" + new string('1', 62), "one"));
        db.Insert(Row("ac" + new string('2', 62), "ab"));

        Assert.Equal("ab", db.Find("ab")!.Name);
        Assert.Equal("one", db.Find("ab1")!.Name);
        Assert.Equal("one", db.Find("/one")!.Name);
        Assert.Null(db.Find("ad"));
        Assert.Throws<ContainerException>(() => db.Find("a"));
    }

    [Fact]
    public void Update_rereads_the_row_so_two_handles_never_lose_a_write()
    {
        var id = new string('3', 64);
        using (var db = new ContainerDb(_dir))
        {
            db.Insert(Row(id, "x"));
        }

        using var a = new ContainerDb(_dir);
        using var b = new ContainerDb(_dir);
        Parallel.For(0, 40, i => (i % 2 == 0 ? a : b).Update(id, r =>
        {
            r.RestartCount++;
            return true;
        }));

        Assert.Equal(40, a.Get(id)!.RestartCount);
        Assert.Null(a.Update(new string('9', 64), _ => true));
    }
}
