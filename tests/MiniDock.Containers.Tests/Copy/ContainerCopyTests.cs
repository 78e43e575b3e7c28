using MiniDock.Containers.Copy;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Copy;

/// <summary>docker cp's placement rules and its confinement to the rootfs. Runs as root (chown, mknod).</summary>
public sealed class ContainerCopyTests : IDisposable
{
    private static readonly DateTime OldTime = new(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);

    private readonly string _base = Directory.CreateTempSubdirectory("minidock-cp-").FullName;
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "minidock-outside-" + Guid.NewGuid().ToString("N"));

    public ContainerCopyTests()
    {
        Directory.CreateDirectory(Rootfs);
        Directory.CreateDirectory(Host);
        Directory.CreateDirectory(Path.Combine(Rootfs, "etc"));
        File.WriteAllText(Path.Combine(Rootfs, "etc", "passwd"), "container passwd\n");
        Directory.CreateDirectory(_outside);
    }

    private string Rootfs => Path.Combine(_base, "rootfs");

    private string Host => Path.Combine(_base, "host");

    /// <summary>A relative link that, followed on the host, climbs out of the rootfs to "/" and into <paramref name="hostAbs"/>.</summary>
    private string EscapeLink(string hostAbs) => string.Concat(Enumerable.Repeat("../", Rootfs.Split('/', StringSplitOptions.RemoveEmptyEntries).Length + 2)) + hostAbs.TrimStart('/');

    public void Dispose()
    {
        Directory.Delete(_base, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private string R(string rel) => Path.Combine(Rootfs, rel.TrimStart('/'));

    private string H(string rel) => Path.Combine(Host, rel);

    private static void Write(string path, string text, UnixFileMode? mode = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (mode is { } m)
        {
            File.SetUnixFileMode(path, m);
        }
    }

    private static void Chown(string path, uint uid, uint gid) => Sys.Check(Libc.fchownat(Consts.AtFdCwd, path, uid, gid, Consts.AtSymlinkNoFollow), "chown");

    private static StatInfo Stat(string path) => FsAt.LStat(path) ?? throw new FileNotFoundException(path);

    /// <summary>A small tree: dir/{a.txt 0640 1000:1000 old mtime, sub/b.txt, link -> a.txt, abs -> /etc/passwd}, dir 0750 old mtime.</summary>
    private void MakeTree(string dir)
    {
        Write(Path.Combine(dir, "a.txt"), "A", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Chown(Path.Combine(dir, "a.txt"), 1000, 1000);
        Write(Path.Combine(dir, "sub", "b.txt"), "B");
        File.CreateSymbolicLink(Path.Combine(dir, "link"), "a.txt");
        File.CreateSymbolicLink(Path.Combine(dir, "abs"), "/etc/passwd");
        File.SetLastWriteTimeUtc(Path.Combine(dir, "a.txt"), OldTime);
        File.SetUnixFileMode(dir, (UnixFileMode)0x1E8 /* 0750 */);
        Directory.SetLastWriteTimeUtc(Path.Combine(dir, "sub"), OldTime);
        Directory.SetLastWriteTimeUtc(dir, OldTime);
    }

    private static void AssertTree(string dir, bool keptOwner = true)
    {
        Assert.Equal("A", File.ReadAllText(Path.Combine(dir, "a.txt")));
        Assert.Equal("B", File.ReadAllText(Path.Combine(dir, "sub", "b.txt")));
        var a = Stat(Path.Combine(dir, "a.txt"));
        Assert.Equal(0x1A0u, a.Mode & 0xFFF);
        Assert.Equal(keptOwner ? 1000u : 0u, a.Uid);
        Assert.Equal(OldTime, File.GetLastWriteTimeUtc(Path.Combine(dir, "a.txt")));
        Assert.True(Stat(Path.Combine(dir, "link")).IsSymlink);
        Assert.Equal("a.txt", new FileInfo(Path.Combine(dir, "link")).LinkTarget);
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(dir, "abs")).LinkTarget);
        Assert.Equal(0x1E8u, Stat(dir).Mode & 0xFFF);
        Assert.Equal(OldTime, Directory.GetLastWriteTimeUtc(dir));
        Assert.Equal(OldTime, Directory.GetLastWriteTimeUtc(Path.Combine(dir, "sub")));
    }

    // ---- from the container --------------------------------------------------------------------------------

    [Fact]
    public void File_into_existing_host_dir_lands_under_its_basename_with_mode_mtime_and_owner()
    {
        Write(R("/data/app.conf"), "conf", (UnixFileMode)0x1ED /* 0755 */);
        Chown(R("/data/app.conf"), 1234, 5678);
        File.SetLastWriteTimeUtc(R("/data/app.conf"), OldTime);

        ContainerCopy.FromContainer(Rootfs, "/data/app.conf", Host);

        var dst = H("app.conf");
        Assert.Equal("conf", File.ReadAllText(dst));
        var st = Stat(dst);
        Assert.Equal((0x1EDu, 1234u, 5678u), (st.Mode & 0xFFF, st.Uid, st.Gid));
        Assert.Equal(OldTime, File.GetLastWriteTimeUtc(dst));
    }

    [Fact]
    public void File_to_missing_host_path_creates_that_file_and_existing_file_is_overwritten()
    {
        Write(R("/data/x"), "new");
        ContainerCopy.FromContainer(Rootfs, "data/x", H("renamed")); // relative container paths start at "/"
        Assert.Equal("new", File.ReadAllText(H("renamed")));

        Write(H("existing"), "old content that is longer");
        ContainerCopy.FromContainer(Rootfs, "/data/x", H("existing"));
        Assert.Equal("new", File.ReadAllText(H("existing")));
    }

    [Fact]
    public void File_to_missing_path_with_trailing_slash_is_an_error()
    {
        Write(R("/data/x"), "x");
        var e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/data/x", H("nodir") + "/"));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(H("nodir")));
    }

    [Fact]
    public void Dir_to_missing_host_path_is_created_as_a_copy()
    {
        MakeTree(R("/srv/tree"));
        ContainerCopy.FromContainer(Rootfs, "/srv/tree", H("copy"));
        AssertTree(H("copy"));
        Assert.False(Directory.Exists(H("copy/tree")));
    }

    [Fact]
    public void Dir_to_existing_host_dir_lands_under_its_basename()
    {
        MakeTree(R("/srv/tree"));
        Directory.CreateDirectory(H("out"));
        ContainerCopy.FromContainer(Rootfs, "/srv/tree", H("out"));
        AssertTree(H("out/tree"));
    }

    [Fact]
    public void Dir_dot_copies_only_the_contents_into_an_existing_dir()
    {
        MakeTree(R("/srv/tree"));
        Directory.CreateDirectory(H("out"));
        Write(H("out/keep.txt"), "keep");
        File.SetUnixFileMode(H("out"), (UnixFileMode)0x1FF);

        ContainerCopy.FromContainer(Rootfs, "/srv/tree/.", H("out"));

        Assert.Equal("A", File.ReadAllText(H("out/a.txt")));
        Assert.Equal("B", File.ReadAllText(H("out/sub/b.txt")));
        Assert.Equal("keep", File.ReadAllText(H("out/keep.txt")));
        Assert.False(Directory.Exists(H("out/tree")));
        Assert.Equal(0x1FFu, Stat(H("out")).Mode & 0xFFF); // the destination dir itself is left alone
    }

    [Fact]
    public void Dir_dot_to_missing_path_creates_it()
    {
        MakeTree(R("/srv/tree"));
        ContainerCopy.FromContainer(Rootfs, "/srv/tree/.", H("fresh"));
        AssertTree(H("fresh"));
    }

    [Fact]
    public void Dir_onto_an_existing_file_is_an_error()
    {
        MakeTree(R("/srv/tree"));
        Write(H("file"), "f");
        var e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/srv/tree", H("file")));
        Assert.Contains("cannot copy a directory", e.Message, StringComparison.Ordinal);
        Assert.Equal("f", File.ReadAllText(H("file")));
    }

    [Fact]
    public void Missing_source_says_could_not_find_the_file_in_container()
    {
        var e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/nope/x", Host));
        Assert.Equal("Could not find the file /nope/x in container", e.Message);
        e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/etc/missing", Host));
        Assert.Equal("Could not find the file /etc/missing in container", e.Message);
    }

    [Fact]
    public void Missing_host_parent_is_an_error()
    {
        var e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/etc/passwd", H("no/such/dir/file")));
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_source_with_trailing_slash_is_not_a_directory()
    {
        var e = Assert.Throws<CopyException>(() => ContainerCopy.FromContainer(Rootfs, "/etc/passwd/", Host));
        Assert.Contains("not a directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Absolute_symlink_to_etc_passwd_resolves_inside_the_rootfs_when_followed()
    {
        File.CreateSymbolicLink(R("/link"), "/etc/passwd");

        ContainerCopy.FromContainer(Rootfs, "/link", H("followed"), followLink: true);

        Assert.Equal("container passwd\n", File.ReadAllText(H("followed")));
        Assert.False(Stat(H("followed")).IsSymlink);
    }

    [Fact]
    public void Symlink_source_is_copied_as_the_link_itself_by_default()
    {
        File.CreateSymbolicLink(R("/link"), "/etc/passwd");

        ContainerCopy.FromContainer(Rootfs, "/link", Host);

        Assert.True(Stat(H("link")).IsSymlink);
        Assert.Equal("/etc/passwd", new FileInfo(H("link")).LinkTarget);
    }

    [Fact]
    public void Symlinked_directories_and_dotdot_in_the_source_path_stay_inside_the_rootfs()
    {
        File.CreateSymbolicLink(R("/etclink"), "/etc");
        File.CreateSymbolicLink(R("/up"), EscapeLink("/etc"));
        File.CreateSymbolicLink(R("/relpw"), "../../../../../../../../etc/passwd");

        ContainerCopy.FromContainer(Rootfs, "/etclink/passwd", H("a"));
        ContainerCopy.FromContainer(Rootfs, "/up/passwd", H("b"));
        ContainerCopy.FromContainer(Rootfs, "/../../../../etc/passwd", H("c"));
        ContainerCopy.FromContainer(Rootfs, "/relpw", H("d"), followLink: true);

        foreach (var f in "abcd")
        {
            Assert.Equal("container passwd\n", File.ReadAllText(H(f.ToString())));
        }
    }

    [Fact]
    public void Source_with_trailing_slash_follows_a_directory_symlink()
    {
        MakeTree(R("/srv/tree"));
        File.CreateSymbolicLink(R("/dirlink"), "/srv/tree");

        ContainerCopy.FromContainer(Rootfs, "/dirlink/", H("viaslash"));

        AssertTree(H("viaslash"));
    }

    [Fact]
    public void Fifo_and_device_nodes_are_recreated_not_read()
    {
        Directory.CreateDirectory(R("/dev2"));
        Sys.Check(Libc.mknodat(Consts.AtFdCwd, R("/dev2/fifo"), StatMode.IfIfo | 0x1A4, 0), "mkfifo");
        Sys.Check(Libc.mknodat(Consts.AtFdCwd, R("/dev2/null"), StatMode.IfChr | 0x1B6, FsAt.MakeDev(1, 3)), "mknod");
        File.SetUnixFileMode(R("/dev2/null"), (UnixFileMode)0x1B6); // 0666 whatever the umask

        ContainerCopy.FromContainer(Rootfs, "/dev2", H("dev2"));

        Assert.Equal(StatMode.IfIfo, Stat(H("dev2/fifo")).Type);
        var n = Stat(H("dev2/null"));
        Assert.Equal((StatMode.IfChr, 1u, 3u, 0x1B6u), (n.Type, n.Major, n.Minor, n.Mode & 0xFFF));
    }

    [Fact]
    public void Root_of_the_container_copies_its_contents()
    {
        Directory.CreateDirectory(H("all"));
        ContainerCopy.FromContainer(Rootfs, "/", H("all"));
        Assert.Equal("container passwd\n", File.ReadAllText(H("all/etc/passwd")));
    }

    // ---- into the container --------------------------------------------------------------------------------

    [Fact]
    public void Host_file_into_container_dir_is_root_owned_with_mode_and_mtime_kept()
    {
        Write(H("tool"), "#!/bin/sh\n");
        Chown(H("tool"), 1000, 1000); // before the mode: chown clears setuid
        File.SetUnixFileMode(H("tool"), (UnixFileMode)0x9ED /* 04755 */);
        File.SetLastWriteTimeUtc(H("tool"), OldTime);

        ContainerCopy.ToContainer(H("tool"), Rootfs, "/etc");

        var st = Stat(R("/etc/tool"));
        Assert.Equal((0u, 0u), (st.Uid, st.Gid));
        Assert.Equal(0x9EDu, st.Mode & 0xFFF); // setuid survives: mode is set after chown
        Assert.Equal(OldTime, File.GetLastWriteTimeUtc(R("/etc/tool")));
    }

    [Fact]
    public void Archive_mode_keeps_the_source_owner()
    {
        Write(H("f"), "x");
        Chown(H("f"), 1234, 5678);
        ContainerCopy.ToContainer(H("f"), Rootfs, "/etc/f", copyOwnership: true);
        var st = Stat(R("/etc/f"));
        Assert.Equal((1234u, 5678u), (st.Uid, st.Gid));
    }

    [Fact]
    public void Host_dir_into_container_follows_the_same_rules()
    {
        MakeTree(H("tree"));
        ContainerCopy.ToContainer(H("tree"), Rootfs, "/new");
        AssertTree(R("/new"), keptOwner: false);

        ContainerCopy.ToContainer(H("tree"), Rootfs, "/etc");
        AssertTree(R("/etc/tree"), keptOwner: false);

        Directory.CreateDirectory(R("/merge"));
        ContainerCopy.ToContainer(H("tree") + "/.", Rootfs, "/merge");
        Assert.Equal("A", File.ReadAllText(R("/merge/a.txt")));
    }

    [Fact]
    public void Dest_parent_symlink_climbing_out_resolves_inside_the_rootfs()
    {
        var name = Path.GetFileName(_outside);
        Directory.CreateDirectory(R("/tmp/" + name));
        File.CreateSymbolicLink(R("/link"), EscapeLink(_outside));
        Assert.True(Directory.Exists(R("/link"))); // on the host, the link really leads out
        Write(H("payload"), "payload");

        ContainerCopy.ToContainer(H("payload"), Rootfs, "/link/payload");

        Assert.Equal("payload", File.ReadAllText(R($"/tmp/{name}/payload")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void Dest_parent_symlink_with_the_literal_four_dotdots_stays_inside_the_rootfs()
    {
        // "../../../../tmp/outside" as the task states it: in the rootfs that is /tmp/outside.
        File.CreateSymbolicLink(R("/link"), "../../../../tmp/" + Path.GetFileName(_outside));
        Write(H("payload"), "payload");

        var e = Assert.Throws<CopyException>(() => ContainerCopy.ToContainer(H("payload"), Rootfs, "/link/payload"));
        Assert.Contains("in container", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));

        Directory.CreateDirectory(R("/tmp/" + Path.GetFileName(_outside)));
        ContainerCopy.ToContainer(H("payload"), Rootfs, "/link/payload");
        Assert.True(File.Exists(R($"/tmp/{Path.GetFileName(_outside)}/payload")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void Dest_parent_missing_inside_the_rootfs_is_an_error_even_if_it_exists_on_the_host()
    {
        File.CreateSymbolicLink(R("/link"), _outside); // absolute: /tmp/minidock-outside-… does not exist in the rootfs
        Write(H("payload"), "payload");

        var e = Assert.Throws<CopyException>(() => ContainerCopy.ToContainer(H("payload"), Rootfs, "/link/sub/payload"));
        Assert.StartsWith("Could not find the file", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void Final_dest_symlink_is_followed_inside_the_rootfs()
    {
        var name = Path.GetFileName(_outside);
        Directory.CreateDirectory(R("/tmp/" + name));
        File.CreateSymbolicLink(R("/evil"), EscapeLink(_outside + "/written"));
        File.CreateSymbolicLink(R("/dirlink"), "/etc");
        Write(H("payload"), "payload");

        ContainerCopy.ToContainer(H("payload"), Rootfs, "/evil");
        ContainerCopy.ToContainer(H("payload"), Rootfs, "/dirlink");

        Assert.Equal("payload", File.ReadAllText(R($"/tmp/{name}/written")));
        Assert.Equal("payload", File.ReadAllText(R("/etc/payload")));
        Assert.True(Stat(R("/evil")).IsSymlink); // the link is still a link
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void Symlinks_inside_an_existing_container_tree_are_replaced_never_written_through()
    {
        var victim = Path.Combine(_outside, "victim");
        File.WriteAllText(victim, "untouched");
        MakeTree(H("tree"));

        // The container prepared /dst/tree/a.txt -> host file and /dst/tree/sub -> host dir.
        Directory.CreateDirectory(R("/dst/tree"));
        File.CreateSymbolicLink(R("/dst/tree/a.txt"), victim);
        File.CreateSymbolicLink(R("/dst/tree/sub"), _outside);

        var e = Assert.Throws<CopyException>(() => ContainerCopy.ToContainer(H("tree"), Rootfs, "/dst"));
        Assert.Contains("cannot overwrite non-directory", e.Message, StringComparison.Ordinal);
        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.Equal(["victim"], Directory.EnumerateFileSystemEntries(_outside).Select(Path.GetFileName));

        // Without the directory clash the file symlink is replaced by the file, and the victim is intact.
        File.Delete(R("/dst/tree/sub"));
        ContainerCopy.ToContainer(H("tree"), Rootfs, "/dst");
        Assert.False(Stat(R("/dst/tree/a.txt")).IsSymlink);
        Assert.Equal("A", File.ReadAllText(R("/dst/tree/a.txt")));
        Assert.Equal("untouched", File.ReadAllText(victim));
    }

    [Fact]
    public void File_onto_an_existing_container_directory_of_that_name_is_an_error()
    {
        Directory.CreateDirectory(R("/etc/x"));
        Directory.CreateDirectory(H("d"));
        Write(H("d/x"), "file");
        var e = Assert.Throws<CopyException>(() => ContainerCopy.ToContainer(H("d") + "/.", Rootfs, "/etc"));
        Assert.Contains("cannot overwrite directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_host_source_is_an_error()
    {
        var e = Assert.Throws<CopyException>(() => ContainerCopy.ToContainer(H("absent"), Rootfs, "/etc"));
        Assert.Contains("no such file or directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Host_source_symlink_is_copied_as_a_link_unless_followed()
    {
        Write(H("real"), "real");
        File.CreateSymbolicLink(H("ln"), H("real"));

        ContainerCopy.ToContainer(H("ln"), Rootfs, "/etc/asLink");
        ContainerCopy.ToContainer(H("ln"), Rootfs, "/etc/asFile", followLink: true);

        Assert.True(Stat(R("/etc/asLink")).IsSymlink);
        Assert.Equal("real", File.ReadAllText(R("/etc/asFile")));
        Assert.False(Stat(R("/etc/asFile")).IsSymlink);
    }
}
