using MiniDock.Containers.Config;

namespace MiniDock.Containers.Tests.Config;

/// <summary>A bundle for a container on a bridge network, or sharing another's: the namespace it joins and its /etc files.</summary>
public sealed class NetworkBundleTests : IDisposable
{
    private const string ShortId = "0123456789ab";

    private static readonly NetworkPlan Plan = new() { NamespacePath = "/run/x/netns", Address = "10.77.0.9", EmbeddedDns = "10.78.0.1" };

    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    private string Bundle(string file) => File.ReadAllText(Path.Combine(_f.Bundle, file));

    private BundleResult Build(RunOptions options, NetworkPlan? plan)
    {
        var i = _f.Inputs(options: options);
        return BundleBuilder.Build(new BundleInputs
        {
            Image = i.Image,
            Options = i.Options,
            ContainerId = i.ContainerId,
            RootPath = i.RootPath,
            BundleDir = i.BundleDir,
            NamedVolume = i.NamedVolume,
            InitBinary = i.InitBinary,
            HostLimits = i.HostLimits,
            CallerEnv = i.CallerEnv,
            HostResolvConf = i.HostResolvConf,
            HostHostsFile = i.HostHostsFile,
            HostHostname = i.HostHostname,
            CgroupV2Only = i.CgroupV2Only,
            CanRaiseHardLimits = i.CanRaiseHardLimits,
            CpuCount = i.CpuCount,
            Network = plan,
        });
    }

    private static List<string> Nameservers(string resolv)
        => [.. resolv.Split('\n').Where(l => l.StartsWith("nameserver ", StringComparison.Ordinal)).Select(l => l["nameserver ".Length..])];

    [Fact]
    public void The_network_namespace_is_joined_by_path()
    {
        var spec = SpecAssert.Parse(Build(new RunOptions { Network = "bridge" }, Plan));
        var ns = spec.Linux!.Namespaces!;
        Assert.Equal(["pid", "ipc", "uts", "mount", "network"], ns.Select(n => n.Type).ToList());
        Assert.Equal("/run/x/netns", ns.Single(n => n.Type == "network").Path);
        Assert.All(ns.Where(n => n.Type != "network"), n => Assert.Null(n.Path));
        Assert.Equal(ShortId, spec.Hostname);
    }

    [Fact]
    public void The_config_json_has_the_path_on_the_network_entry()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(Build(new RunOptions { Network = "bridge" }, Plan).ConfigJson)!;
        var entry = json["linux"]!["namespaces"]!.AsArray().Single(n => (string)n!["type"]! == "network")!;
        Assert.Equal("/run/x/netns", (string)entry["path"]!);
    }

    [Fact]
    public void The_hosts_file_ends_with_the_containers_own_address_after_add_host_lines()
    {
        var r = Build(new RunOptions { Network = "bridge", AddHosts = ["db:10.0.0.5", "cache=10.0.0.6"] }, Plan);
        Assert.Equal(ShortId, r.Hostname);
        Assert.Equal(EtcFiles.DefaultHosts + "10.0.0.5\tdb\n10.0.0.6\tcache\n10.77.0.9\t" + ShortId + "\n", Bundle("hosts"));
        Assert.Equal(ShortId + "\n", Bundle("hostname"));
    }

    [Fact]
    public void The_hosts_file_names_the_address_with_the_hostname_option()
    {
        Build(new RunOptions { Network = "bridge", Hostname = "web" }, Plan);
        Assert.Equal(EtcFiles.DefaultHosts + "10.77.0.9\tweb\n", Bundle("hosts"));
        Assert.Equal("web\n", Bundle("hostname"));
    }

    [Fact]
    public void The_embedded_dns_is_the_only_nameserver_and_the_rest_of_the_hosts_file_stays()
    {
        Build(new RunOptions { Network = "mynet" }, Plan);
        var resolv = Bundle("resolv.conf");
        Assert.Equal(["10.78.0.1"], Nameservers(resolv));
        Assert.Equal("search example.com\noptions ndots:2\nnameserver 10.78.0.1\n", resolv);
    }

    [Fact]
    public void Dns_flags_replace_the_embedded_dns()
    {
        Build(new RunOptions { Network = "mynet", Dns = ["1.1.1.1", "9.9.9.9"] }, Plan);
        Assert.Equal(["1.1.1.1", "9.9.9.9"], Nameservers(Bundle("resolv.conf")));
    }

    [Fact]
    public void Dns_search_alone_keeps_the_embedded_dns()
    {
        Build(new RunOptions { Network = "mynet", DnsSearch = ["corp.example"] }, Plan);
        Assert.Equal("options ndots:2\nnameserver 10.78.0.1\nsearch corp.example\n", Bundle("resolv.conf"));
    }

    [Fact]
    public void Without_an_embedded_dns_the_hosts_resolvers_minus_loopback_are_used()
    {
        Build(new RunOptions { Network = "bridge" }, new NetworkPlan { NamespacePath = "/run/x/netns", Address = "10.77.0.9" });
        Assert.Equal("search example.com\nnameserver 10.0.0.2\noptions ndots:2\n", Bundle("resolv.conf"));
    }

    [Fact]
    public void Without_an_address_the_hosts_file_is_the_default()
    {
        Build(new RunOptions { Network = "bridge" }, new NetworkPlan { NamespacePath = "/run/x/netns" });
        Assert.Equal(EtcFiles.DefaultHosts, Bundle("hosts"));
    }

    [Fact]
    public void A_shared_etc_dir_gives_its_files_and_hostname()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_f.Dir, "other-container")).FullName;
        File.WriteAllText(Path.Combine(shared, "hostname"), "webhost\n");
        File.WriteAllText(Path.Combine(shared, "hosts"), "127.0.0.1\tlocalhost\n10.78.0.7\twebhost\n");
        File.WriteAllText(Path.Combine(shared, "resolv.conf"), "nameserver 10.78.0.1\nsearch shared.example\n");

        var r = Build(new RunOptions { Network = "container:web" }, new NetworkPlan { NamespacePath = "/proc/1234/ns/net", SharedEtcDir = shared });
        Assert.Equal("webhost", r.Hostname);
        var spec = SpecAssert.Parse(r);
        Assert.Equal("webhost", spec.Hostname);
        Assert.Equal("/proc/1234/ns/net", spec.Linux!.Namespaces!.Single(n => n.Type == "network").Path);
        Assert.Contains("HOSTNAME=webhost", r.Env);
        Assert.Equal("webhost\n", Bundle("hostname"));
        Assert.Equal("127.0.0.1\tlocalhost\n10.78.0.7\twebhost\n", Bundle("hosts"));
        Assert.Equal("nameserver 10.78.0.1\nsearch shared.example\n", Bundle("resolv.conf"));
    }

    [Theory]
    [InlineData("bridge")]
    [InlineData("mynet")]
    [InlineData("container:web")]
    public void Without_a_plan_a_network_other_than_none_or_host_is_not_found(string network)
        => Assert.Equal($"network {network} not found", Assert.Throws<ContainerException>(() => Build(new RunOptions { Network = network }, null)).Message);

    [Theory]
    [InlineData("none")]
    [InlineData("")]
    public void None_has_a_network_namespace_of_its_own_without_a_path(string network)
    {
        var ns = SpecAssert.Parse(Build(new RunOptions { Network = network }, null)).Linux!.Namespaces!;
        Assert.Null(Assert.Single(ns, n => n.Type == "network").Path);
        Assert.Equal(EtcFiles.DefaultHosts, Bundle("hosts"));
    }

    [Fact]
    public void A_plan_for_a_bridge_does_not_use_the_hosts_name_or_files()
    {
        var r = Build(new RunOptions { Network = "bridge" }, Plan);
        Assert.NotEqual("the-host", r.Hostname);
        Assert.DoesNotContain("myhost", Bundle("hosts"), StringComparison.Ordinal);
    }
}
