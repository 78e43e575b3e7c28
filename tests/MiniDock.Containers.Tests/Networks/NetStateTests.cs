using MiniDock.Containers.Networks;

namespace MiniDock.Containers.Tests.Networks;

/// <summary>
/// The per-network-namespace state dir (MINIDOCK_NET_STATE points it at a temp dir): a dir left by an earlier
/// namespace with the same inode number is not inherited, and the last release removes it.
/// </summary>
[Collection(nameof(CniPathEnvironment))]
public sealed class NetStateTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("minidock-netstate-").FullName;
    private readonly string? _saved = Environment.GetEnvironmentVariable("MINIDOCK_NET_STATE");

    public NetStateTests() => Environment.SetEnvironmentVariable("MINIDOCK_NET_STATE", _base);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("MINIDOCK_NET_STATE", _saved);
        Directory.Delete(_base, recursive: true);
    }

    private string Dir => Path.Combine(_base, NetState.NamespaceInode().ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_dir_left_by_another_namespace_with_the_same_inode_is_emptied()
    {
        Directory.CreateDirectory(Path.Combine(Dir, "ipam", "minidock-bridge"));
        File.WriteAllText(Path.Combine(Dir, "ipam", "minidock-bridge", "10.77.0.2"), "dead\n");
        File.WriteAllText(Path.Combine(Dir, "ip_forward"), "1\n");
        File.WriteAllText(Path.Combine(Dir, "cookie"), "1\n"); // no live namespace has cookie 1

        using (var st = NetState.Lock())
        {
            Assert.Equal(0, st.Allocations("minidock-bridge"));
            Assert.False(File.Exists(Path.Combine(Dir, "ip_forward")), "a saved ip_forward of another namespace is not ours to restore");
            Assert.NotEqual("1", File.ReadAllText(Path.Combine(Dir, "cookie")).Trim());
        }
    }

    [Fact]
    public void Our_own_dir_keeps_its_allocations_and_the_last_release_removes_it()
    {
        using (var st = NetState.Lock())
        {
            Directory.CreateDirectory(Path.Combine(st.IpamDir, "minidock-bridge"));
            File.WriteAllText(Path.Combine(st.IpamDir, "minidock-bridge", "10.77.0.2"), "ours\n");
        }

        using (var st = NetState.Lock())
        {
            Assert.Equal(1, st.Allocations("minidock-bridge"));
            Assert.False(st.ReleaseIfUnused(), "an address is still allocated");
            st.DropIpam("minidock-bridge");
            var undone = false;
            Assert.True(st.ReleaseIfUnused(() => undone = true));
            Assert.True(undone);
        }

        Assert.False(Directory.Exists(Dir));
    }
}
