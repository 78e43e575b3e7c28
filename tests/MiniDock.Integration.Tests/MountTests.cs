using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>proc, tmpfs and bind mounts, their order, a read-only root, symlink-safe destinations, masked and read-only paths.</summary>
public sealed class MountTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void Proc_ShowsOnlyTheContainersPids()
    {
        var b = _rt.NewBundle("proc").Sh("ls /proc");
        var pids = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.All(char.IsAsciiDigit)).ToList();
        Assert.Contains("1", pids);
        Assert.True(pids.Count <= 3, "the container's /proc lists host processes: " + string.Join(' ', pids));
    }

    [Fact]
    public void Tmpfs_WithSizeAndMode()
    {
        var b = _rt.NewBundle("tmpfs").Sh("cat /proc/self/mountinfo; echo ===; stat -c %a /data");
        b.AddMount("/data", "tmpfs", "tmpfs", "nosuid", "size=1m", "mode=700");
        var parts = _rt.RunToCompletion(b).Split("===");
        var data = MountInfo.At(MountInfo.Parse(parts[0]), "/data");
        Assert.True(data is not null, "no mount at /data:\n" + parts[0]);
        Assert.Equal("tmpfs", data.FsType);
        Assert.Contains("size=1024k", data.SuperOptions);
        Assert.Contains("mode=700", data.SuperOptions);
        Assert.Contains("nosuid", data.MountOptions);
        Assert.Equal("700", parts[1].Trim());
        Assert.False(Directory.EnumerateFileSystemEntries(Path.Combine(b.RootFs, "data")).Any(), "tmpfs writes must not reach the rootfs");
    }

    [Fact]
    public void BindMount_ReadOnly_RefusesWrites()
    {
        var host = _rt.HostDir("ro-src");
        File.WriteAllText(Path.Combine(host, "hello"), "hello-from-host");
        var b = _rt.NewBundle("bindro").Sh("cat /mnt/ro/hello; echo; if touch /mnt/ro/new 2>/dev/null; then echo WRITABLE; else echo READONLY; fi");
        b.AddBind("/mnt/ro", host, readOnly: true);
        var lines = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["hello-from-host", "READONLY"], lines);
        Assert.False(File.Exists(Path.Combine(host, "new")));
    }

    [Fact]
    public void BindMount_ReadWrite_WritesReachTheHost()
    {
        var host = _rt.HostDir("rw-src");
        var b = _rt.NewBundle("bindrw").Sh("echo from-container > /mnt/rw/out");
        b.AddBind("/mnt/rw", host, readOnly: false);
        _rt.RunToCompletion(b);
        Assert.Equal("from-container\n", File.ReadAllText(Path.Combine(host, "out")));
    }

    [Fact]
    public void Mounts_AreAppliedInListedOrder()
    {
        var host = _rt.HostDir("inner");
        File.WriteAllText(Path.Combine(host, "marker"), "inner-marker");
        var b = _rt.NewBundle("order").Sh("cat /a/b/marker; echo; cat /proc/self/mountinfo");
        b.AddMount("/a", "tmpfs", "tmpfs", "size=1m");
        b.AddBind("/a/b", host, readOnly: true);
        var output = _rt.RunToCompletion(b);
        Assert.StartsWith("inner-marker", output);
        var mounts = MountInfo.Parse(output);
        Assert.Equal("tmpfs", MountInfo.At(mounts, "/a")?.FsType);
        Assert.NotNull(MountInfo.At(mounts, "/a/b"));
        // /a/b was made inside the tmpfs, not in the rootfs underneath.
        Assert.False(Directory.Exists(Path.Combine(b.RootFs, "a", "b")), "the mount point for /a/b was created below the tmpfs");
    }

    [Fact]
    public void ReadonlyRoot_RefusesWrites()
    {
        var b = _rt.NewBundle("roroot").Sh("if touch /rootfile 2>/dev/null; then echo WRITABLE; else echo READONLY; fi; cat /proc/self/mountinfo");
        b.ReadonlyRoot = true;
        var output = _rt.RunToCompletion(b);
        Assert.StartsWith("READONLY", output);
        Assert.True(MountInfo.At(MountInfo.Parse(output), "/")?.IsReadOnly, "/ is not mounted ro: " + output);
        Assert.False(File.Exists(Path.Combine(b.RootFs, "rootfile")));
    }

    [Fact]
    public void SymlinkInRootfs_UsedAsMountDestination_StaysInsideTheRootfs()
    {
        // rootfs/evil -> HOST/outside (absolute): a runtime that follows it on the host mounts onto, or creates
        // directories in, the host path. It must resolve it inside the rootfs instead.
        var outside = _rt.HostDir("outside");
        var outside2 = _rt.HostDir("outside2");
        var b = _rt.NewBundle("evil").Sh("echo written > /evil/file; cat /proc/self/mountinfo");
        File.CreateSymbolicLink(Path.Combine(b.RootFs, "evil"), outside);
        File.CreateSymbolicLink(Path.Combine(b.RootFs, "evil2"), outside2);
        b.AddMount("/evil", "tmpfs", "tmpfs", "size=1m");
        b.AddMount("/evil2/sub", "tmpfs", "tmpfs", "size=1m");

        var mounts = MountInfo.Parse(_rt.RunToCompletion(b));

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside2));
        Assert.DoesNotContain(MountInfo.ReadSelf(), m => m.MountPoint.StartsWith(outside, StringComparison.Ordinal));
        // Inside the container the mounts sit where the links point to within the rootfs.
        Assert.Equal("tmpfs", MountInfo.At(mounts, outside)?.FsType);
        Assert.Equal("tmpfs", MountInfo.At(mounts, outside2 + "/sub")?.FsType);
    }

    [Fact]
    public void MaskedPaths_ReadEmpty()
    {
        Assert.True(new FileInfo("/proc/timer_list").Exists, "precondition: the host has /proc/timer_list");
        Assert.NotEmpty(File.ReadAllText("/proc/timer_list"));
        var b = _rt.NewBundle("mask").Sh("wc -c < /proc/timer_list; echo ===; ls -A /secret; echo ===; cat /proc/self/mountinfo");
        Directory.CreateDirectory(Path.Combine(b.RootFs, "secret"));
        File.WriteAllText(Path.Combine(b.RootFs, "secret", "key"), "do-not-show");
        b.Linux["maskedPaths"]!.AsArray().Add("/secret");
        b.Linux["maskedPaths"]!.AsArray().Add("/does/not/exist");

        var parts = _rt.RunToCompletion(b).Split("===");
        Assert.Equal("0", parts[0].Trim());
        Assert.Equal("", parts[1].Trim());
        var secret = MountInfo.At(MountInfo.Parse(parts[2]), "/secret");
        Assert.True(secret is not null, "masked dir /secret is not a mount: " + parts[2]);
        Assert.True(secret.IsReadOnly, "masked dir must be read-only: " + secret.Line);
    }

    [Fact]
    public void ReadonlyPaths_RefuseWrites()
    {
        var b = _rt.NewBundle("ropath").Sh(
            "if echo x > /proc/sys/kernel/domainname 2>/dev/null; then echo WRITABLE; else echo READONLY; fi; cat /proc/self/mountinfo");
        var output = _rt.RunToCompletion(b);
        Assert.StartsWith("READONLY", output);
        var sys = MountInfo.At(MountInfo.Parse(output), "/proc/sys");
        Assert.True(sys is not null && sys.IsReadOnly, "/proc/sys is not a read-only mount: " + output);
    }

    [Fact]
    public void NoMountLeaksIntoTheCallersNamespace()
    {
        var host = _rt.HostDir("leak-src");
        var b = _rt.NewBundle("leak").Args("sleep", "30");
        b.AddBind("/mnt/x", host, readOnly: false);
        b.AddMount("/data", "tmpfs", "tmpfs");
        _rt.CreateAndStart(b);
        Assert.DoesNotContain(MountInfo.ReadSelf(), m => m.Line.Contains(b.Dir, StringComparison.Ordinal));
        _rt.InvokeOk("delete", "--force", b.Id);
        Assert.DoesNotContain(MountInfo.ReadSelf(), m => m.Line.Contains(b.Dir, StringComparison.Ordinal));

        var once = _rt.NewBundle("leak2").Args("true");
        once.AddBind("/mnt/x", host, readOnly: true);
        _rt.RunToCompletion(once);
        Assert.DoesNotContain(MountInfo.ReadSelf(), m => m.Line.Contains(once.Dir, StringComparison.Ordinal));
    }
}
