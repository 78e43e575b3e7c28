using MiniDock.Native;
using MiniDock.Runtime.Mounts;

namespace MiniDock.Runtime.Tests.Mounts;

/// <summary>The masking decisions, checked through a recording <see cref="ISyscalls"/> (no root, no kernel).</summary>
public sealed class MaskedPathsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("masked").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Directories_get_a_readonly_tmpfs_files_get_dev_null_and_missing_paths_are_skipped()
    {
        var sub = Directory.CreateDirectory(Path.Combine(_dir, "d")).FullName;
        var file = Path.Combine(_dir, "f");
        File.WriteAllText(file, "secret");
        var rec = new RecordingSyscalls();

        MaskedPaths.ApplyMasked(rec, [sub, file, Path.Combine(_dir, "missing")], Trace.Off);

        Assert.Equal(2, rec.Mounts.Count);
        Assert.Equal(("tmpfs", sub, "tmpfs", MountFlags.RdOnly), rec.Mounts[0]);
        Assert.Equal(("/dev/null", file, null, MountFlags.Bind), rec.Mounts[1]);
    }

    [Fact]
    public void Readonly_paths_are_bound_then_remounted_readonly()
    {
        var rec = new RecordingSyscalls();
        MaskedPaths.ApplyReadonly(rec, [_dir], Trace.Off);
        Assert.Equal(2, rec.Mounts.Count);
        Assert.Equal(MountFlags.Bind | MountFlags.Rec, rec.Mounts[0].Flags);
        Assert.True((rec.Mounts[1].Flags & (MountFlags.Remount | MountFlags.RdOnly | MountFlags.Bind)) == (MountFlags.Remount | MountFlags.RdOnly | MountFlags.Bind));
    }

    private sealed class RecordingSyscalls : ISyscalls
    {
        public List<(string? Source, string Target, string? Type, ulong Flags)> Mounts { get; } = [];

        public void Mount(string? source, string target, string? fstype, ulong flags, string? data) => Mounts.Add((source, target, fstype, flags));

        public void Umount(string target, int flags) => throw new NotSupportedException();

        public void PivotRoot(string newRoot, string putOld) => throw new NotSupportedException();

        public void Chdir(string path) => throw new NotSupportedException();

        public void Chroot(string path) => throw new NotSupportedException();

        public void MknodAt(int dirfd, string name, uint mode, uint major, uint minor) => throw new NotSupportedException();

        public void SymlinkAt(string target, int dirfd, string name) => throw new NotSupportedException();

        public void FchownAt(int dirfd, string name, uint uid, uint gid) => throw new NotSupportedException();
    }
}
