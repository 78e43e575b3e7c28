using MiniDock.Containers.Config;

namespace MiniDock.Containers.Tests.Config;

public sealed class SecurityOptsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-secopt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string text)
    {
        var p = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    [Fact]
    public void No_new_privileges_in_each_spelling()
    {
        Assert.True(SecurityOpts.NoNewPrivileges(["no-new-privileges"]));
        Assert.True(SecurityOpts.NoNewPrivileges(["no-new-privileges:true"]));
        Assert.True(SecurityOpts.NoNewPrivileges(["no-new-privileges=1"]));
        Assert.False(SecurityOpts.NoNewPrivileges(["no-new-privileges=false"]));
        Assert.False(SecurityOpts.NoNewPrivileges([]));
        Assert.Throws<ContainerException>(() => SecurityOpts.NoNewPrivileges(["no-new-privileges=maybe"]));
    }

    [Fact]
    public void Seccomp_unconfined_builtin_and_a_file_in_either_spelling()
    {
        Assert.Equal(SeccompMode.Default, SecurityOpts.Parse([]).Seccomp);
        Assert.Equal(SeccompMode.Unconfined, SecurityOpts.Parse(["seccomp=unconfined"]).Seccomp);
        Assert.Equal(SeccompMode.Unconfined, SecurityOpts.Parse(["seccomp:unconfined"]).Seccomp);
        Assert.Equal(SeccompMode.Builtin, SecurityOpts.Parse(["seccomp=builtin"]).Seccomp);

        var path = File("p.json", "{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\"\n}\n");
        var parsed = SecurityOpts.Parse(["seccomp:" + path]);
        Assert.Equal(SeccompMode.Custom, parsed.Seccomp);
        Assert.Equal("""{"defaultAction":"SCMP_ACT_ALLOW"}""", parsed.SeccompProfile);
    }

    [Fact]
    public void Inline_replaces_a_profile_path_with_its_compact_JSON_and_keeps_the_rest()
    {
        var path = File("p.json", "{ \"defaultAction\" : \"SCMP_ACT_ERRNO\",\n \"syscalls\": [] }");
        var opts = SecurityOpts.Inline(["no-new-privileges", "seccomp=" + path, "seccomp=unconfined"]);
        Assert.Equal(["no-new-privileges", """seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}""", "seccomp=unconfined"], opts);

        // The inlined form parses without the file (start and restart rebuild from it).
        System.IO.File.Delete(path);
        Assert.Equal(SeccompMode.Custom, SecurityOpts.Parse(opts[..2]).Seccomp);
        Assert.Equal(SeccompMode.Unconfined, SecurityOpts.Parse(opts).Seccomp); // the last seccomp= wins
    }

    [Fact]
    public void Missing_file_and_bad_JSON_are_one_line_errors()
    {
        var missing = Assert.Throws<ContainerException>(() => SecurityOpts.Inline(["seccomp=" + Path.Combine(_dir, "nope.json")]));
        Assert.Contains("opening seccomp profile", missing.Message, StringComparison.Ordinal);

        var bad = Assert.Throws<ContainerException>(() => SecurityOpts.Inline(["seccomp=" + File("bad.json", "{ \"defaultAction\": ")]));
        Assert.Contains("compacting json for seccomp profile", bad.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', bad.Message);
    }

    [Fact]
    public void A_profile_with_an_unknown_action_fails_the_check_before_anything_is_created()
    {
        var path = File("p.json", """{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["mkdir"], "action": "SCMP_ACT_EXPLODE" } ] }""");
        var o = new RunOptions { SecurityOpts = SecurityOpts.Inline(["seccomp=" + path]) };
        var e = Assert.Throws<ContainerException>(() => SecurityOpts.Check(o));
        Assert.Contains("SCMP_ACT_EXPLODE", e.Message, StringComparison.Ordinal);

        var notify = new RunOptions { SecurityOpts = ["""seccomp={"defaultAction":"SCMP_ACT_NOTIFY"}"""] };
        Assert.Contains("SCMP_ACT_NOTIFY", Assert.Throws<ContainerException>(() => SecurityOpts.Check(notify)).Message, StringComparison.Ordinal);

        SecurityOpts.Check(new RunOptions { SecurityOpts = ["seccomp=unconfined", "no-new-privileges"], CapAdd = ["SYS_ADMIN"] });
    }

    [Theory]
    [InlineData("apparmor=docker-default", "AppArmor")]
    [InlineData("apparmor:myprofile", "AppArmor")]
    [InlineData("label=type:svirt_apache_t", "SELinux")]
    [InlineData("label=level:s0:c100,c200", "SELinux")]
    [InlineData("bogus=1", "invalid --security-opt")]
    [InlineData("seccomp", "invalid --security-opt")]
    [InlineData("seccomp=", "invalid --security-opt")]
    [InlineData("systempaths=confined", "systempaths")]
    public void Other_options_are_refused_clearly(string opt, string expected)
    {
        var e = Assert.Throws<ContainerException>(() => SecurityOpts.Parse([opt]));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Equal(125, e.ExitCode);
    }

    [Fact]
    public void Apparmor_unconfined_and_label_disable_are_accepted_no_ops()
    {
        var s = SecurityOpts.Parse(["apparmor=unconfined", "label=disable", "label:disable"]);
        Assert.Equal(new SecurityOptions(false, SeccompMode.Default, null, false), s);
        Assert.True(SecurityOpts.Parse(["systempaths=unconfined"]).SystemPathsUnconfined);
    }
}
