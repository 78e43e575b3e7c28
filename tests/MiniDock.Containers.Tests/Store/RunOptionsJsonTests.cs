using MiniDock.Containers.Config;
using MiniDock.Containers.Store;

namespace MiniDock.Containers.Tests.Store;

public sealed class RunOptionsJsonTests
{
    [Fact]
    public void Every_flag_survives_the_round_trip()
    {
        var o = new RunOptions
        {
            Image = "alpine", Name = "web", Entrypoint = "", Args = ["sh", "-c", "echo \"hi\" ü"], Env = ["A=1", "B"], EnvFiles = ["/e"],
            WorkDir = "/w", User = "dev:wheel", Hostname = "h", Volumes = ["/a:/b:ro", "v:/c", "/d"], Tty = true, Interactive = true,
            Detach = true, AutoRemove = true, ReadOnly = true, Init = true, Memory = 6 << 20, Cpus = 1.5, PidsLimit = 10, Network = "host",
            StopSignal = "SIGUSR1", StopTimeout = 3, Ulimits = ["nofile=1:2"], Restart = "on-failure:2", Platform = "linux/arm64", Labels = ["k=v"],
            CapAdd = ["NET_ADMIN"], CapDrop = ["ALL"], SecurityOpts = ["no-new-privileges"],
        };

        var back = RunOptionsJson.Read(RunOptionsJson.Write(o));

        Assert.Equal(RunOptionsJson.Write(o), RunOptionsJson.Write(back));
        Assert.Equal("", back.Entrypoint);
        Assert.Equal(o.Args, back.Args);
        Assert.Equal(1.5, back.Cpus);
        Assert.Equal(6 << 20, back.Memory);
        Assert.Equal(["ALL"], back.CapDrop);
        Assert.True(back.Tty && back.Interactive && back.Detach && back.AutoRemove && back.ReadOnly && back.Init);
    }

    [Fact]
    public void Unset_optional_flags_stay_unset()
    {
        var back = RunOptionsJson.Read(RunOptionsJson.Write(new RunOptions { Image = "x" }));
        Assert.Null(back.Entrypoint);
        Assert.Null(back.Memory);
        Assert.Null(back.StopTimeout);
        Assert.Equal("none", back.Network);
        Assert.Equal("no", back.Restart);
    }

    [Fact]
    public void Resolved_config_round_trips_with_its_mounts()
    {
        var r = new ResolvedConfig
        {
            Args = ["sh"], Env = ["PATH=/bin"], Cwd = "/w", Uid = 1000, Gid = 1000, AdditionalGids = [1000, 10], Hostname = "h",
            StopSignal = "SIGINT", StopTimeout = 4, Mounts = [new MountPointInfo("volume", "abc", "/v/abc/_data", "/data", true, true)],
        };

        var back = ResolvedConfig.Parse(r.ToJson())!;

        Assert.Equal(r.ToJson(), back.ToJson());
        Assert.True(back.Mounts[0].Anonymous);
        Assert.Null(ResolvedConfig.Parse(null));
    }
}
