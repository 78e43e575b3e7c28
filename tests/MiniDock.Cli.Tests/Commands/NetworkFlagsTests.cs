using MiniDock.Cli.Commands;
using MiniDock.Containers.Config;

namespace MiniDock.Cli.Tests.Commands;

/// <summary>Docker's conflicts between <c>--network</c> and the other network flags, checked before anything is created.</summary>
public sealed class NetworkFlagsTests
{
    private static string Error(RunOptions o) => Assert.Throws<ContainerException>(() => RunFlags.CheckNetwork(o)).Message;

    private static RunOptions Parse(params string[] args)
    {
        var flags = new RunFlags();
        var cmd = new System.CommandLine.Command("run");
        flags.AddTo(cmd, run: true);
        var p = cmd.Parse(args);
        Assert.Empty(p.Errors);
        return flags.Read(p, []);
    }

    [Fact]
    public void Container_without_a_name_is_refused()
        => Assert.Equal("invalid container format container:<name|id>", Error(new RunOptions { Network = "container:" }));

    [Fact]
    public void Container_mode_refuses_a_hostname()
        => Assert.Equal("conflicting options: hostname and the network mode", Error(new RunOptions { Network = "container:web", Hostname = "h" }));

    [Fact]
    public void Container_mode_refuses_port_publishing()
    {
        const string message = "conflicting options: port publishing and the container type network mode";
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", Publish = ["8080:80"] }));
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", PublishAll = true }));
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", Expose = ["80"] }));
    }

    [Fact]
    public void Container_mode_refuses_dns_and_add_host()
    {
        const string message = "conflicting options: dns and the network mode";
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", Dns = ["1.1.1.1"] }));
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", DnsSearch = ["example.com"] }));
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", DnsOptions = ["ndots:2"] }));
        Assert.Equal(message, Error(new RunOptions { Network = "container:web", AddHosts = ["db:10.0.0.5"] }));
    }

    [Fact]
    public void Container_mode_alone_passes()
        => RunFlags.CheckNetwork(new RunOptions { Network = "container:web", Env = ["A=1"] });

    [Theory]
    [InlineData("none")]
    [InlineData("host")]
    [InlineData("bridge")]
    [InlineData("container:web")]
    public void Only_user_defined_networks_take_network_aliases(string mode)
        => Assert.Equal("network-scoped alias is supported only for containers in user defined networks", Error(new RunOptions { Network = mode, NetworkAliases = ["db"] }));


    [Theory]
    [InlineData("abc:80", "invalid hostPort: abc")]
    [InlineData("8080:abc", "invalid containerPort: abc")]
    [InlineData("80/icmp", "invalid proto: icmp")]
    public void A_bad_publish_spec_is_refused_by_its_parser(string spec, string message)
        => Assert.Equal(message, Error(new RunOptions { Network = "bridge", Publish = [spec] }));

    [Fact]
    public void A_bad_expose_spec_is_refused()
        => Assert.Throws<ContainerException>(() => RunFlags.CheckNetwork(new RunOptions { Network = "bridge", Expose = ["abc"] }));

    [Fact]
    public void A_bad_publish_spec_is_refused_even_before_a_container_mode_conflict()
        => Assert.Equal("invalid hostPort: abc", Error(new RunOptions { Network = "container:web", Publish = ["abc:80"] }));

    [Fact]
    public void A_good_bridge_config_passes()
        => RunFlags.CheckNetwork(new RunOptions
        {
            Network = "bridge",
            Hostname = "web",
            Publish = ["8080:80", "127.0.0.1::53/udp", "9000-9001:9000-9001"],
            PublishAll = true,
            Expose = ["7000-7002"],
            Dns = ["1.1.1.1"],
            AddHosts = ["db:10.0.0.5"],
        });

    [Fact]
    public void Aliases_on_a_user_network_pass()
        => RunFlags.CheckNetwork(new RunOptions { Network = "mynet", NetworkAliases = ["api", "web"] });

    [Fact]
    public void The_cli_default_network_is_bridge()
    {
        Assert.Equal("none", new RunOptions().Network); // the options' own default (older stored containers)
        Assert.Equal("bridge", Parse("alpine").Network);
        Assert.Equal("none", Parse("--network", "none", "alpine").Network);
        Assert.Equal("host", Parse("--net", "host", "alpine").Network);
    }

    [Fact]
    public void Network_flags_are_read()
    {
        var o = Parse("-p", "8080:80", "--publish", "53:53/udp", "-P", "--expose", "90", "--network-alias", "a", "--network", "mynet", "alpine");
        Assert.Equal(["8080:80", "53:53/udp"], o.Publish);
        Assert.True(o.PublishAll);
        Assert.Equal(["90"], o.Expose);
        Assert.Equal(["a"], o.NetworkAliases);
        Assert.Equal("mynet", o.Network);
    }

    [Fact]
    public void Reading_the_flags_checks_the_network()
        => Assert.Equal("invalid hostPort: abc", Assert.Throws<ContainerException>(() => Parse("-p", "abc:80", "alpine")).Message);

    [Fact]
    public void Reading_the_flags_checks_container_mode_conflicts()
        => Assert.Equal("conflicting options: hostname and the network mode",
            Assert.Throws<ContainerException>(() => Parse("--network", "container:web", "-h", "x", "alpine")).Message);
}
