using MiniDock.Containers.Config;
using MiniDock.Images;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

/// <summary>config.json mounts: Docker's defaults, the /etc files, volumes (parents first), their options.</summary>
public sealed class MountTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static string Describe(MountSpec m) => $"{m.Destination} {m.Type} {m.Source} [{string.Join(',', m.Options ?? [])}]";

    [Fact]
    public void Default_mounts_are_dockers_in_order_then_the_etc_files()
    {
        var spec = SpecAssert.Parse(_f.Build());
        Assert.Equal(
        [
            "/proc proc proc [nosuid,noexec,nodev]",
            "/dev tmpfs tmpfs [nosuid,strictatime,mode=755,size=65536k]",
            "/dev/pts devpts devpts [nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5]",
            "/sys sysfs sysfs [nosuid,noexec,nodev,ro]",
            "/sys/fs/cgroup cgroup cgroup [ro,nosuid,noexec,nodev]",
            "/dev/mqueue mqueue mqueue [nosuid,noexec,nodev]",
            "/dev/shm tmpfs shm [nosuid,noexec,nodev,mode=1777,size=65536k]",
            $"/etc/hostname bind {_f.Bundle}/hostname [rbind,rprivate]",
            $"/etc/hosts bind {_f.Bundle}/hosts [rbind,rprivate]",
            $"/etc/resolv.conf bind {_f.Bundle}/resolv.conf [rbind,rprivate]",
        ],
            spec.Mounts!.Select(Describe).ToList());
    }

    [Fact]
    public void Read_only_root_makes_the_etc_files_read_only_too()
    {
        var spec = SpecAssert.Parse(_f.Build(options: new RunOptions { ReadOnly = true }));
        Assert.True(spec.Root!.Readonly);
        Assert.All(spec.Mounts!.Where(m => m.Destination.StartsWith("/etc/", StringComparison.Ordinal)), m => Assert.Contains("ro", m.Options!));
    }

    [Fact]
    public void Volumes_mount_after_the_defaults_parents_first_with_their_options()
    {
        var hostA = Path.Combine(_f.Dir, "host-a");
        var hostB = Path.Combine(_f.Dir, "host-b", "deep");
        var r = _f.Build(
            new ImageConfig { Cmd = ["sh"], Volumes = ["/data", "/var/lib/db/", "/covered"] },
            new RunOptions { Volumes = [$"{hostA}:/a/b/c:ro", "named1:/a", $"{hostB}:/covered", "/anon/x"] });

        var spec = SpecAssert.Parse(r);
        var user = spec.Mounts!.Skip(10).ToList();
        Assert.Equal(["/a", "/covered", "/data", "/anon/x", "/a/b/c", "/var/lib/db"], user.Select(m => m.Destination).ToList());
        Assert.All(user, m => Assert.Equal("bind", m.Type));
        var ro = Assert.Single(user, m => m.Destination == "/a/b/c");
        Assert.Equal(["rbind", "rprivate", "ro"], ro.Options);
        Assert.Equal(["rbind", "rprivate", "rw"], user[0].Options);

        // Bind sources are created as directories (as -v does); volumes come from the store.
        Assert.True(Directory.Exists(hostA));
        Assert.True(Directory.Exists(hostB));
        Assert.Equal(hostA, ro.Source);
        Assert.Equal(Path.Combine(_f.Dir, "volumes", "named1", "_data"), user[0].Source);

        Assert.Equal(user.Select(m => m.Destination), r.Mounts.Select(m => m.Destination));
        var named = r.Mounts[0];
        Assert.Equal(new MountPointInfo("volume", "named1", user[0].Source!, "/a", true, false), named);
        var anon = r.Mounts.Where(m => m.Anonymous).ToList();
        Assert.Equal(["/data", "/anon/x", "/var/lib/db"], anon.Select(m => m.Destination).ToList());
        Assert.All(anon, m =>
        {
            Assert.Equal("volume", m.Type);
            Assert.Matches("^[0-9a-f]{64}$", m.Name);
            Assert.True(m.ReadWrite);
        });
        Assert.Equal(new MountPointInfo("bind", null, hostA, "/a/b/c", false, false), r.Mounts.Single(m => m.Destination == "/a/b/c"));
        Assert.Equal(new MountPointInfo("bind", null, hostB, "/covered", true, false), r.Mounts.Single(m => m.Destination == "/covered"));
        Assert.Equal(4, _f.VolumeCalls.Count);
    }

    [Fact]
    public void Anonymous_volumes_of_a_previous_run_are_reused()
    {
        var old = new string('e', 64);
        var inputs = _f.Inputs(new ImageConfig { Cmd = ["sh"], Volumes = ["/data"] }, existing: new Dictionary<string, string> { ["/data"] = old });
        var r = BundleBuilder.Build(inputs);
        Assert.Equal(old, Assert.Single(r.Mounts).Name);
        Assert.Equal([old], _f.VolumeCalls);
    }

    [Fact]
    public void A_user_mount_over_a_default_replaces_it()
    {
        var hosts = Path.Combine(_f.Dir, "my-hosts");
        File.WriteAllText(hosts, "1.2.3.4 x\n");
        var spec = SpecAssert.Parse(_f.Build(options: new RunOptions { Volumes = [$"{hosts}:/etc/hosts:ro", "shm1:/dev/shm"] }));
        Assert.Equal(hosts, Assert.Single(spec.Mounts!, m => m.Destination == "/etc/hosts").Source);
        Assert.Equal("bind", Assert.Single(spec.Mounts!, m => m.Destination == "/dev/shm").Type);
        Assert.True(File.Exists(hosts)); // a file source stays a file
    }

    [Fact]
    public void Mounting_dev_drops_the_dev_sub_mounts()
    {
        var spec = SpecAssert.Parse(_f.Build(options: new RunOptions { Volumes = [$"{_f.Outside}:/dev"] }));
        Assert.DoesNotContain(spec.Mounts!, m => m.Destination.StartsWith("/dev/", StringComparison.Ordinal));
        Assert.Equal("bind", Assert.Single(spec.Mounts!, m => m.Destination == "/dev").Type);
    }

    [Fact]
    public void Duplicate_destinations_are_an_error()
        => Assert.Equal("Duplicate mount point: /c",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Volumes = ["/a:/c", "vol1:/c/"] })).Message);

    [Fact]
    public void Named_volumes_need_a_volume_store()
    {
        var e = Assert.Throws<ContainerException>(() => BundleBuilder.Build(_f.Inputs(options: new RunOptions { Volumes = ["vol1:/c"] }, withVolumes: false)));
        Assert.Contains("not available", e.Message);
        Assert.Throws<ContainerException>(() => BundleBuilder.Build(_f.Inputs(new ImageConfig { Cmd = ["sh"], Volumes = ["/data"] }, withVolumes: false)));
        BundleBuilder.Build(_f.Inputs(options: new RunOptions { Volumes = [$"{_f.Outside}:/c"] }, withVolumes: false));
    }

    [Fact]
    public void A_relative_image_volume_is_an_error()
        => Assert.Contains("must be absolute", Assert.Throws<ContainerException>(() => _f.Build(new ImageConfig { Cmd = ["sh"], Volumes = ["data"] })).Message);

    [Fact]
    public void A_bad_volume_creates_nothing()
    {
        var host = Path.Combine(_f.Dir, "should-not-exist");
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Volumes = [$"{host}:/c", "/x:rel"] }));
        Assert.False(Directory.Exists(host));
        Assert.Empty(_f.VolumeCalls);
        Assert.False(Directory.Exists(_f.Bundle));
    }
}
