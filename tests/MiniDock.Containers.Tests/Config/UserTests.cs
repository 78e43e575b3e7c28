using MiniDock.Containers.Config;
using MiniDock.Images;
using MiniDock.Native;

namespace MiniDock.Containers.Tests.Config;

/// <summary>Config.User / -u resolved in the container's own passwd and group files, safely.</summary>
public sealed class UserTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    public static TheoryData<string?, uint, uint, uint[]> Forms => new()
    {
        // spec, uid, gid, additionalGids (primary first, then groups listing the user; none with an explicit group)
        { null, 0, 0, [0, 10] },
        { "", 0, 0, [0, 10] },
        { "root", 0, 0, [0, 10] },
        { "alice", 1000, 1000, [1000, 10, 999] },
        { "1000", 1000, 1000, [1000, 10, 999] },
        { "bob", 1001, 100, [100, 999] },
        { "alice:users", 1000, 100, [100] },
        { "alice:50", 1000, 50, [50] },
        { "1000:docker", 1000, 999, [999] },
        { "1000:1", 1000, 1, [1] },
        { "4242", 4242, 0, [0] },
        { "4242:4343", 4242, 4343, [4343] },
        { "4242:wheel", 4242, 10, [10] },
    };

    [Theory]
    [MemberData(nameof(Forms))]
    public void User_forms_resolve_as_docker_does(string? spec, uint uid, uint gid, uint[] groups)
    {
        _f.StandardEtc();
        var r = _f.Build(options: new RunOptions { User = spec });
        Assert.Equal(uid, r.Uid);
        Assert.Equal(gid, r.Gid);
        Assert.Equal(groups, r.AdditionalGids);
        var user = SpecAssert.Parse(r).Process!.User;
        Assert.Equal(uid, user.Uid);
        Assert.Equal(gid, user.Gid);
        Assert.Equal(groups, user.AdditionalGids);
        Assert.Equal(0x12u, user.Umask);
    }

    [Fact]
    public void The_image_user_is_used_unless_dash_u()
    {
        _f.StandardEtc();
        var image = new ImageConfig { Cmd = ["sh"], User = "bob" };
        Assert.Equal(1001u, _f.Build(image).Uid);
        Assert.Equal(1000u, _f.Build(image, new RunOptions { User = "alice" }).Uid);
    }

    [Theory]
    [InlineData("nobody", "unable to find user nobody: no matching entries in passwd file")]
    [InlineData("nobody:users", "unable to find user nobody: no matching entries in passwd file")]
    [InlineData("alice:nogroup", "unable to find group nogroup: no matching entries in group file")]
    [InlineData("1000:nogroup", "unable to find group nogroup: no matching entries in group file")]
    [InlineData("alice:", "invalid user: alice: (want name|uid[:group|gid])")]
    [InlineData("a:b:c", "invalid user: a:b:c (want name|uid[:group|gid])")]
    [InlineData("99999999999", "uid 99999999999 is out of range")]
    public void Unknown_users_and_groups_are_errors(string spec, string message)
    {
        _f.StandardEtc();
        var e = Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = spec }));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Without_passwd_a_name_is_an_error_and_numbers_are_fine()
    {
        Assert.Equal("unable to find user alice: no matching entries in passwd file",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "alice" })).Message);
        var r = _f.Build(options: new RunOptions { User = "1000:1000" });
        Assert.Equal((1000u, 1000u), (r.Uid, r.Gid));
        r = _f.Build();
        Assert.Equal((0u, 0u), (r.Uid, r.Gid));
        Assert.Equal([0u], r.AdditionalGids);
    }

    [Fact]
    public void Without_group_file_a_group_name_is_an_error()
    {
        _f.WriteRoot("etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
        Assert.Equal("unable to find group staff: no matching entries in group file",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "alice:staff" })).Message);
        Assert.Equal([1000u], _f.Build(options: new RunOptions { User = "alice" }).AdditionalGids);
    }

    [Fact]
    public void Garbage_and_comment_lines_in_passwd_are_skipped()
    {
        _f.WriteRoot("etc/passwd", "# comment\nthis is garbage\nevil:x:notanumber:0::/:/bin/sh\n+nis\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        Assert.Equal(1000u, _f.Build(options: new RunOptions { User = "alice" }).Uid);
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "evil" }));
    }

    [Fact]
    public void An_absolute_passwd_symlink_resolves_inside_the_rootfs_never_to_the_host_file()
    {
        // The host file the link names: a hostile image hopes we read this one.
        var hostPasswd = Path.Combine(_f.Outside, "passwd");
        File.WriteAllText(hostPasswd, "evil:x:4242:4242::/evil:/bin/sh\nroot:x:0:0::/host-root:/bin/sh\n");
        Directory.CreateDirectory(Path.Combine(_f.Root, "etc"));
        File.CreateSymbolicLink(Path.Combine(_f.Root, "etc/passwd"), hostPasswd);

        // Nothing at that path inside the rootfs: passwd is missing, so the name is unknown.
        Assert.Equal("unable to find user evil: no matching entries in passwd file",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "evil" })).Message);
        Assert.Contains("HOME=/", _f.Build().Env);
        Assert.DoesNotContain("HOME=/host-root", _f.Build().Env);

        // The same path inside the rootfs is what the link means there.
        _f.WriteRoot(hostPasswd.TrimStart('/'), "evil:x:1111:1111::/inside:/bin/sh\n");
        var r = _f.Build(options: new RunOptions { User = "evil" });
        Assert.Equal(1111u, r.Uid);
        Assert.Contains("HOME=/inside", r.Env);
    }

    [Fact]
    public void A_relative_dotdot_symlink_cannot_climb_out_of_the_rootfs()
    {
        File.WriteAllText(Path.Combine(_f.Outside, "group"), "evilgrp:x:4242:\n");
        _f.WriteRoot("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
        File.CreateSymbolicLink(Path.Combine(_f.Root, "etc/group"), "../../../../../../../../outside/group");
        Assert.Equal("unable to find group evilgrp: no matching entries in group file",
            Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "root:evilgrp" })).Message);
    }

    [Fact]
    public void A_fifo_or_directory_as_passwd_is_treated_as_missing_without_blocking()
    {
        Directory.CreateDirectory(Path.Combine(_f.Root, "etc"));
        Assert.Equal(0, Libc.mkfifo(Path.Combine(_f.Root, "etc/passwd"), 0x1a4));
        Directory.CreateDirectory(Path.Combine(_f.Root, "etc/group"));
        var r = _f.Build(options: new RunOptions { User = "1000" });
        Assert.Equal(1000u, r.Uid);
        Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { User = "alice" }));
    }
}
