using MiniDock.Containers.Rootfs;

namespace MiniDock.Containers.Tests.Rootfs;

/// <summary>Choosing the storage driver: explicit name, environment, default, and the overlay probe's fallback.</summary>
public sealed class SnapshottersTests : IDisposable
{
    private readonly Scratch _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData("vfs", null, "vfs")]
    [InlineData("VFS", "overlay", "vfs")]
    [InlineData("overlay", "vfs", "overlay")]
    [InlineData("overlay2", null, "overlay")]
    [InlineData(null, "vfs", "vfs")]
    [InlineData(null, " overlay ", "overlay")]
    [InlineData(null, null, "overlay")]
    [InlineData("", "", "overlay")]
    public void ExplicitDriver_ThenEnvironment_ThenOverlay(string? driver, string? environment, string expected)
    {
        var s = Snapshotters.Select(_tmp.Path, driver, environment, _ => 0);

        Assert.Equal(expected, s.Name);
        Assert.IsType(expected == "vfs" ? typeof(CopySnapshotter) : typeof(OverlaySnapshotter), s);
    }

    [Theory]
    [InlineData(19)] // ENODEV: no overlayfs in this kernel
    [InlineData(22)] // EINVAL: the data root's filesystem cannot be an upper layer
    [InlineData(1)] // EPERM: not allowed here (an unprivileged user namespace, a locked-down kernel)
    public void KernelRefusingOverlay_FallsBackToVfs(int errno)
    {
        Assert.IsType<CopySnapshotter>(Snapshotters.Select(_tmp.Path, "overlay", null, _ => errno));
    }

    [Fact]
    public void OtherProbeFailures_AreErrors()
    {
        var e = Assert.Throws<SnapshotException>(() => Snapshotters.Select(_tmp.Path, null, null, _ => 28 /* ENOSPC */));

        Assert.Contains("overlayfs probe", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VfsNeverProbes()
    {
        Assert.IsType<CopySnapshotter>(Snapshotters.Select(_tmp.Path, "vfs", null, _ => throw new InvalidOperationException("probed")));
    }

    [Theory]
    [InlineData("zfs")]
    [InlineData("btrfs")]
    [InlineData("overlay3")]
    public void UnknownDriver_IsRefused(string driver)
    {
        var e = Assert.Throws<SnapshotException>(() => Snapshotters.Select(_tmp.Path, driver));

        Assert.Equal($"unknown storage driver '{driver}' (supported: overlay, vfs)", e.Message);
    }

    [Fact]
    public void TheRealProbe_MountsOverlayHere_AndLeavesNothing()
    {
        Assert.Equal(0, Snapshotters.Probe(_tmp.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp.Path));
        Assert.Empty(Scratch.MountsUnder(_tmp.Path));
    }

    [Fact]
    public void TheRealSelect_GivesOverlayOnThisKernel()
    {
        Assert.IsType<OverlaySnapshotter>(Snapshotters.Select(_tmp.Path, "overlay"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp.Path));
    }
}

/// <summary>Tests that set the process-wide environment variable run alone.</summary>
[CollectionDefinition(nameof(StorageDriverEnvironment), DisableParallelization = true)]
public sealed class StorageDriverEnvironment
{
}

[Collection(nameof(StorageDriverEnvironment))]
public sealed class SnapshottersEnvironmentTests : IDisposable
{
    private readonly Scratch _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void MinidockStorageDriver_IsHonouredWhenNoDriverIsGiven()
    {
        var saved = Environment.GetEnvironmentVariable(Snapshotters.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(Snapshotters.EnvironmentVariable, "vfs");
            Assert.IsType<CopySnapshotter>(Snapshotters.Select(_tmp.Path));
            Assert.IsType<OverlaySnapshotter>(Snapshotters.Select(_tmp.Path, "overlay"));

            Environment.SetEnvironmentVariable(Snapshotters.EnvironmentVariable, "devicemapper");
            Assert.Throws<SnapshotException>(() => Snapshotters.Select(_tmp.Path));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Snapshotters.EnvironmentVariable, saved);
        }
    }
}
