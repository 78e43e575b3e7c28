using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests;

/// <summary>linux.uidMappings/gidMappings validation and the map files the runtime writes (config-linux.md#user-namespace-mappings).</summary>
public sealed class UserNamespaceTests
{
    private static IdMapping Map(uint container, uint host, uint size) => new() { ContainerID = container, HostID = host, Size = size };

    private static LinuxSpec Linux(bool userns, string? path = null, IdMapping[]? uids = null, IdMapping[]? gids = null) => new()
    {
        Namespaces = userns ? [new NamespaceSpec { Type = "user", Path = path }, new NamespaceSpec { Type = "mount" }] : [new NamespaceSpec { Type = "mount" }],
        UidMappings = uids?.ToList(),
        GidMappings = gids?.ToList(),
    };

    private static void Validate(LinuxSpec linux, ProcessSpec? process = null)
        => UserNamespace.Validate(linux, Namespaces.Parse(linux.Namespaces), process ?? new ProcessSpec());

    private static string Refused(LinuxSpec linux, ProcessSpec? process = null)
        => Assert.Throws<RuntimeError>(() => Validate(linux, process)).Message;

    [Fact]
    public void A_map_file_has_one_line_per_range()
        => Assert.Equal("0 1000 2000\n5000 100000 10\n", UserNamespace.FormatMap([Map(0, 1000, 2000), Map(5000, 100000, 10)]));

    [Fact]
    public void The_conformance_suites_mapping_is_valid()
        => Validate(Linux(true, uids: [Map(0, 1000, 2000)], gids: [Map(0, 1000, 3000)]));

    [Fact]
    public void Mappings_without_a_user_namespace_are_an_error()
        => Assert.Contains("no user namespace", Refused(Linux(false, uids: [Map(0, 1000, 1)], gids: [Map(0, 1000, 1)])));

    [Fact]
    public void No_user_namespace_and_no_mappings_is_fine() => Validate(Linux(false));

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void A_new_user_namespace_needs_both_maps(bool uids, bool gids)
        => Assert.Contains("needs both", Refused(Linux(true, uids: uids ? [Map(0, 1000, 1)] : null, gids: gids ? [Map(0, 1000, 1)] : null)));

    [Fact]
    public void Joining_by_path_takes_no_mappings()
    {
        Validate(Linux(true, path: "/proc/self/ns/user"));
        Assert.Contains("joining", Refused(Linux(true, path: "/proc/self/ns/user", uids: [Map(0, 1000, 1)], gids: [Map(0, 1000, 1)])));
    }

    [Fact]
    public void An_empty_range_is_refused()
        => Assert.Contains("size", Refused(Linux(true, uids: [Map(0, 1000, 0)], gids: [Map(0, 1000, 1)])));

    [Theory]
    [InlineData(0u, 1000u, 10u, 5u, 2000u, 10u)] // container ranges overlap
    [InlineData(0u, 1000u, 10u, 100u, 1005u, 10u)] // host ranges overlap
    public void Overlapping_ranges_are_refused(uint c1, uint h1, uint s1, uint c2, uint h2, uint s2)
        => Assert.Contains("overlaps", Refused(Linux(true, uids: [Map(c1, h1, s1), Map(c2, h2, s2)], gids: [Map(0, 1000, 1)])));

    [Fact]
    public void A_range_past_the_last_id_is_refused()
        => Assert.Contains("largest id", Refused(Linux(true, uids: [Map(0, uint.MaxValue, 2)], gids: [Map(0, 1000, 1)])));

    [Fact]
    public void More_ranges_than_the_kernel_takes_are_refused()
    {
        var many = Enumerable.Range(0, UserNamespace.MaxMapLines + 1).Select(i => Map((uint)i, 1000 + (uint)i, 1)).ToArray();
        Assert.Contains("at most", Refused(Linux(true, uids: many, gids: [Map(0, 1000, 1)])));
    }

    [Fact]
    public void Container_root_must_be_mapped()
        => Assert.Contains("uid and gid 0", Refused(Linux(true, uids: [Map(1, 1000, 10)], gids: [Map(0, 1000, 10)])));

    [Fact]
    public void The_process_user_must_be_mapped()
    {
        var linux = Linux(true, uids: [Map(0, 1000, 100)], gids: [Map(0, 1000, 100)]);
        Validate(linux, new ProcessSpec { User = new UserSpec { Uid = 99, Gid = 99, AdditionalGids = [5] } });
        Assert.Contains("process.user.uid 100", Refused(linux, new ProcessSpec { User = new UserSpec { Uid = 100 } }));
        Assert.Contains("process.user.gid 500", Refused(linux, new ProcessSpec { User = new UserSpec { Gid = 500 } }));
        Assert.Contains("additionalGids 200", Refused(linux, new ProcessSpec { User = new UserSpec { AdditionalGids = [200] } }));
    }

    [Theory]
    [InlineData(0u, "         0       1000       2000\n", 1000u)]
    [InlineData(1999u, "0 1000 2000\n", 2999u)]
    [InlineData(7u, "0 1000 5\n10 5000 5\n", null)]
    [InlineData(12u, "0 1000 5\n10 5000 5\n", 5002u)]
    [InlineData(0u, "", null)]
    public void Host_ids_are_read_from_a_map_file(uint id, string map, uint? host)
        => Assert.Equal(host, UserNamespace.HostIdOf(id, map));

    [Fact]
    public void The_nsexec_variable_lists_the_socket_the_flags_and_the_joins()
        => Assert.Equal("_MINIDOCK_NSEXEC=3 20000000 5:10000000 6:20000",
            UserNamespace.NsexecEnv(3, Clone.NewPid, [(5, Clone.NewUser), (6, Clone.NewNs)]));

    [Fact]
    public void A_JIT_build_has_no_nsexec_constructor() => Assert.False(NsExec.Available);
}
