using MiniDock.Containers.Config;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

/// <summary><c>--userns-remap</c>: the spec forms, the /etc/subuid lookup, and what it puts in config.json.</summary>
public sealed class UsernsRemapTests : IDisposable
{
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    private (string SubUid, string SubGid) SubIds(string uids, string gids)
    {
        var u = Path.Combine(_f.Dir, "subuid");
        var g = Path.Combine(_f.Dir, "subgid");
        File.WriteAllText(u, uids);
        File.WriteAllText(g, gids);
        return (u, g);
    }

    [Fact]
    public void Numeric_specs_parse_and_round_trip()
    {
        Assert.Null(UsernsRemap.Resolve(null));
        Assert.Null(UsernsRemap.Resolve(""));
        var r = UsernsRemap.Resolve("100000:65536")!;
        Assert.Equal(new UsernsRemap(100000, 65536, 100000, 65536), r);
        Assert.Equal("100000:65536", r.ToString());
        Assert.Equal(r, UsernsRemap.Parse(r.ToString()));
        var split = UsernsRemap.Resolve("100000:65536:200000:1000")!;
        Assert.Equal(new UsernsRemap(100000, 65536, 200000, 1000), split);
        Assert.Equal(split, UsernsRemap.Parse(split.ToString()));
    }

    [Theory]
    [InlineData("100000:0")]
    [InlineData("0:65536")]
    [InlineData("4294967295:2")]
    [InlineData("99999999999:1")]
    [InlineData("1:2:3")]
    [InlineData("a b")]
    public void Bad_specs_are_one_line_125(string spec)
    {
        var e = Assert.Throws<ContainerException>(() => UsernsRemap.Resolve(spec, Path.Combine(_f.Dir, "none"), Path.Combine(_f.Dir, "none")));
        Assert.Equal(125, e.ExitCode);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Names_come_from_subuid_and_subgid_and_default_is_dockremap()
    {
        var (u, g) = SubIds("# comment\nalice:300000:1000\ndockremap:100000:65536\ndockremap:900000:5\n", "dockremap:200000:65536\nalice:300000:1000\n");
        Assert.Equal(new UsernsRemap(100000, 65536, 200000, 65536), UsernsRemap.Resolve("default", u, g));
        Assert.Equal(new UsernsRemap(300000, 1000, 300000, 1000), UsernsRemap.Resolve("alice", u, g));
    }

    [Fact]
    public void A_name_without_an_entry_says_what_to_add()
    {
        var (u, g) = SubIds("alice:300000:1000\n", "alice:300000:1000\n");
        var e = Assert.Throws<ContainerException>(() => UsernsRemap.Resolve("default", u, g));
        Assert.Equal(125, e.ExitCode);
        Assert.Contains("add 'dockremap:100000:65536' to /etc/subuid and /etc/subgid, or pass --userns-remap 100000:65536", e.Message, StringComparison.Ordinal);
        Assert.Throws<ContainerException>(() => UsernsRemap.Resolve("bob", Path.Combine(_f.Dir, "missing"), g));
    }

    [Fact]
    public void Config_json_gets_a_user_namespace_and_one_mapping_each()
    {
        _f.StandardEtc();
        var spec = SpecAssert.Parse(_f.Build(options: new RunOptions { UsernsRemap = "100000:65536:200000:1000" }));
        Assert.Equal("user", spec.Linux!.Namespaces![0].Type);
        var uid = Assert.Single(spec.Linux.UidMappings!);
        Assert.Equal((0u, 100000u, 65536u), (uid.ContainerID, uid.HostID, uid.Size));
        var gid = Assert.Single(spec.Linux.GidMappings!);
        Assert.Equal((0u, 200000u, 1000u), (gid.ContainerID, gid.HostID, gid.Size));
        SpecValidator.Validate(spec, _f.Bundle);

        var plain = SpecAssert.Parse(_f.Build());
        Assert.DoesNotContain(plain.Linux!.Namespaces!, n => n.Type == "user");
        Assert.Null(plain.Linux.UidMappings);
    }

    [Fact]
    public void A_process_user_or_group_outside_the_range_is_refused()
    {
        _f.StandardEtc();
        var e = Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { UsernsRemap = "100000:1000", User = "alice" }));
        Assert.Contains("uid 1000 is outside the --userns-remap range", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { UsernsRemap = "100000:1000:200000:500", User = "daemon:999" }));
        Assert.Contains("gid 999", e.Message, StringComparison.Ordinal);
        var ok = SpecAssert.Parse(_f.Build(options: new RunOptions { UsernsRemap = "100000:1001", User = "alice" }));
        Assert.Equal(1000u, ok.Process!.User.Uid);
    }
}
