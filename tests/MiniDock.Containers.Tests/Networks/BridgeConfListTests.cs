using System.Text.Json.Nodes;
using MiniDock.Containers.Networks;
using MiniDock.Containers.Store;

namespace MiniDock.Containers.Tests.Networks;

/// <summary>The CNI configuration list of a bridge network and the per-plugin configurations derived from it.</summary>
public sealed class BridgeConfListTests
{
    private const string IpamDir = "/run/minidock/net/4026531840/ipam";

    private static readonly NetworkRow DefaultBridge = new()
    {
        Id = "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233",
        Name = "bridge",
        Driver = "bridge",
        Subnet = "10.77.0.0/16",
        Gateway = "10.77.0.1",
        Bridge = "minidock0",
        Builtin = 1,
    };

    private static readonly NetworkRow InternalNet = new()
    {
        Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        Name = "backend",
        Driver = "bridge",
        Subnet = "10.78.3.0/24",
        Gateway = "10.78.3.1",
        Bridge = "mdbr-0123456789",
        Internal = 1,
    };

    private static List<string> Types(JsonObject conf) => [.. conf["plugins"]!.AsArray().Select(p => (string)p!["type"]!)];

    private static JsonObject Plugin(JsonObject conf, string type) => conf["plugins"]!.AsArray().Single(p => (string)p!["type"]! == type)!.AsObject();

    [Fact]
    public void The_default_bridge_has_one_cni_name_for_every_data_root()
    {
        Assert.Equal("minidock-bridge", BridgeConfList.CniName(DefaultBridge));
        var conf = BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: false);
        Assert.Equal("minidock-bridge", (string)conf["name"]!);
        Assert.Equal("1.0.0", (string)conf["cniVersion"]!);
    }

    [Fact]
    public void A_user_network_is_named_by_its_id()
        => Assert.Equal("minidock-0123456789ab", BridgeConfList.CniName(InternalNet));

    [Fact]
    public void Without_ports_there_is_no_portmap()
        => Assert.Equal(["bridge", "firewall"], Types(BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: false)));

    [Fact]
    public void With_ports_portmap_comes_between_bridge_and_firewall()
    {
        var conf = BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: true);
        Assert.Equal(["bridge", "portmap", "firewall"], Types(conf));
        var portmap = Plugin(conf, "portmap");
        Assert.True((bool)portmap["snat"]!);
        Assert.True((bool)portmap["capabilities"]!["portMappings"]!);
        Assert.Equal("iptables", (string)Plugin(conf, "firewall")["backend"]!);
    }

    [Fact]
    public void The_bridge_plugin_masquerades_is_the_gateway_and_allocates_with_host_local()
    {
        var bridge = Plugin(BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: false), "bridge");
        Assert.Equal("minidock0", (string)bridge["bridge"]!);
        Assert.True((bool)bridge["isGateway"]!);
        Assert.True((bool)bridge["ipMasq"]!);
        Assert.True((bool)bridge["hairpinMode"]!);
        var ipam = bridge["ipam"]!.AsObject();
        Assert.Equal("host-local", (string)ipam["type"]!);
        Assert.Equal(IpamDir, (string)ipam["dataDir"]!);
        Assert.Equal("""[[{"subnet":"10.77.0.0/16","gateway":"10.77.0.1"}]]""", ipam["ranges"]!.ToJsonString());
        Assert.Equal("""[{"dst":"0.0.0.0/0"}]""", ipam["routes"]!.ToJsonString());
    }

    [Fact]
    public void An_internal_network_neither_masquerades_nor_routes_out()
    {
        var conf = BridgeConfList.Build(InternalNet, IpamDir, withPorts: false);
        Assert.Equal("minidock-0123456789ab", (string)conf["name"]!);
        var bridge = Plugin(conf, "bridge");
        Assert.Equal("mdbr-0123456789", (string)bridge["bridge"]!);
        Assert.False((bool)bridge["ipMasq"]!);
        Assert.True((bool)bridge["isGateway"]!);
        Assert.Empty(bridge["ipam"]!["routes"]!.AsArray());
        Assert.Equal("""[[{"subnet":"10.78.3.0/24","gateway":"10.78.3.1"}]]""", bridge["ipam"]!["ranges"]!.ToJsonString());
    }

    [Fact]
    public void Each_plugin_config_gets_the_lists_name_and_version_and_only_portmap_gets_the_mappings()
    {
        var conf = BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: true);
        var before = conf.ToJsonString();
        var configs = BridgeConfList.PluginConfigs(conf, [new PortMapping("127.0.0.1", 8080, 80, "tcp"), new PortMapping("", 5353, 53, "udp")]);

        Assert.Equal(["bridge", "portmap", "firewall"], configs.Select(c => (string)c["type"]!).ToList());
        Assert.All(configs, c =>
        {
            Assert.Equal("minidock-bridge", (string)c["name"]!);
            Assert.Equal("1.0.0", (string)c["cniVersion"]!);
        });
        Assert.Null(configs[0]["runtimeConfig"]);
        Assert.Null(configs[2]["runtimeConfig"]);
        Assert.Equal(
            """{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":"127.0.0.1"},{"hostPort":5353,"containerPort":53,"protocol":"udp","hostIP":""}]}""",
            configs[1]["runtimeConfig"]!.ToJsonString());

        // The plugin's own settings are kept, and the list itself is left as it was.
        Assert.Equal("minidock0", (string)configs[0]["bridge"]!);
        Assert.Equal(IpamDir, (string)configs[0]["ipam"]!["dataDir"]!);
        Assert.Equal(before, conf.ToJsonString());
    }

    [Fact]
    public void A_plugin_without_the_capability_gets_no_runtime_config_even_with_ports()
    {
        var conf = BridgeConfList.Build(DefaultBridge, IpamDir, withPorts: false);
        var configs = BridgeConfList.PluginConfigs(conf, [new PortMapping("", 8080, 80, "tcp")]);
        Assert.Equal(2, configs.Count);
        Assert.All(configs, c => Assert.Null(c["runtimeConfig"]));
    }
}
