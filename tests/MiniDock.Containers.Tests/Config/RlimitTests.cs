using MiniDock.Containers.Config;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

/// <summary>process.rlimits: Docker's NOFILE default fitted to what this host lets us set, and --ulimit.</summary>
public sealed class RlimitTests : IDisposable
{
    private const int NoFile = 7;
    private const int Nproc = 6;
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    private List<RlimitSpec> Rlimits(RunOptions? o = null, IHostLimits? limits = null, bool canRaise = false)
    {
        var r = BundleBuilder.Build(_f.Inputs(options: o, limits: limits, canRaise: canRaise));
        var list = SpecAssert.Parse(r).Process!.Rlimits!;
        MiniDock.Runtime.Security.Rlimits.Parse(list); // the runtime's own check: known types, no duplicates, soft <= hard
        return list;
    }

    [Fact]
    public void Nofile_default_is_dockers_when_the_host_allows_it()
    {
        var l = Assert.Single(Rlimits(limits: new FakeLimits((NoFile, 1024, 1048576))));
        Assert.Equal(("RLIMIT_NOFILE", 1048576UL, 1048576UL), (l.Type, l.Soft, l.Hard));
    }

    [Fact]
    public void Nofile_default_is_clamped_to_the_host_hard_limit_without_cap_sys_resource()
    {
        var l = Assert.Single(Rlimits(limits: new FakeLimits((NoFile, 1024, 20000))));
        Assert.Equal(("RLIMIT_NOFILE", 20000UL, 20000UL), (l.Type, l.Soft, l.Hard));
    }

    [Fact]
    public void Nofile_default_is_kept_when_we_may_raise_hard_limits()
    {
        var l = Assert.Single(Rlimits(limits: new FakeLimits((NoFile, 1024, 20000)), canRaise: true));
        Assert.Equal(1048576UL, l.Hard);
    }

    [Fact]
    public void Unknown_host_limit_keeps_the_default()
        => Assert.Equal(1048576UL, Assert.Single(Rlimits(limits: new FakeLimits())).Hard);

    [Fact]
    public void Ulimit_replaces_the_default_of_its_type_and_adds_others_without_duplicates()
    {
        var list = Rlimits(new RunOptions { Ulimits = ["nproc=100:200", "nofile=512:1024", "nofile=256"] }, new FakeLimits((NoFile, 1024, 20000)));
        Assert.Equal(
            [("RLIMIT_NOFILE", 256UL, 256UL), ("RLIMIT_NPROC", 100UL, 200UL)],
            list.Select(l => (l.Type, l.Soft, l.Hard)).ToList());
    }

    [Fact]
    public void Ulimit_above_the_host_hard_limit_is_refused_without_cap_sys_resource()
    {
        var limits = new FakeLimits((NoFile, 1024, 20000), (Nproc, 100, 500));
        var e = Assert.Throws<ContainerException>(() => Rlimits(new RunOptions { Ulimits = ["nofile=30000"] }, limits));
        Assert.Equal("--ulimit nofile: hard limit 30000 exceeds this host's hard limit 20000", e.Message);
        Assert.Throws<ContainerException>(() => Rlimits(new RunOptions { Ulimits = ["nproc=10:501"] }, limits));
        Assert.Equal(30000UL, Rlimits(new RunOptions { Ulimits = ["nofile=30000"] }, limits, canRaise: true)[0].Hard);
        Assert.Equal(20000UL, Rlimits(new RunOptions { Ulimits = ["nofile=100:20000"] }, limits)[0].Hard);
    }

    [Fact]
    public void Bad_ulimit_fails_the_build()
        => Assert.Throws<ContainerException>(() => Rlimits(new RunOptions { Ulimits = ["nofile=2:1"] }));

    [Fact]
    public void Host_limits_read_this_process()
    {
        var l = HostLimits.Current.Get(NoFile);
        Assert.NotNull(l);
        Assert.True(l.Value.Soft <= l.Value.Hard);
        Assert.Null(HostLimits.Current.Get(999));
    }
}
