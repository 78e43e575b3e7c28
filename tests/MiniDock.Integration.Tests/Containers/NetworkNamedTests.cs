using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// User-defined networks (<c>network create/ls/inspect/rm/prune</c>): their own bridge and subnet, the embedded DNS
/// on the gateway that answers container names, short IDs and <c>--network-alias</c>es, and a server the test runs
/// on the gateway address.
/// </summary>
public sealed class NetworkNamedTests(SandboxFixture sandbox, ITestOutputHelper output) : NetworkTestBase(sandbox, output), IClassFixture<SandboxFixture>
{
    [Fact]
    public void Two_containers_on_a_named_network_reach_each_other_by_name_short_id_and_alias()
    {
        var netId = Cli.Ok("network", "create", "appnet").Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", netId);
        var net = InspectNetwork("appnet");
        Assert.Equal(netId, (string?)net["Id"]);
        var ipam = Assert.Single(net["IPAM"]!["Config"]!.AsArray())!;
        var subnet = (string?)ipam["Subnet"] ?? "";
        var gateway = (string?)ipam["Gateway"] ?? "";
        Assert.Matches(@"^10\.78\.\d{1,3}\.0/24$", subnet);
        Assert.Equal(subnet[..^"0/24".Length] + "1", gateway);
        var bridge = "mdbr-" + netId[..10];
        Assert.Equal(bridge, (string?)net["Options"]?["com.docker.network.bridge.name"]);

        var page = NewPage("by-name");
        var srvId = Cli.RunDetached(["--name", "srv", "--network", "appnet", "--network-alias", "webalias", Image, .. Httpd(page)]);
        var cliId = Cli.RunDetached("--name", "peer", "--network", "appnet", Image, "sleep", "1000");
        var srvIp = IpOf("srv");
        var peerIp = IpOf("peer");
        Assert.True(InSubnet(srvIp, subnet) && InSubnet(peerIp, subnet) && srvIp != peerIp, $"addresses {srvIp} and {peerIp} in {subnet}");
        Assert.Equal(gateway, (string?)NetworkSettings("srv")["Gateway"]);
        Assert.Equal(srvIp, (string?)NetworkSettings("srv")["Networks"]?["appnet"]?["IPAddress"]);
        Assert.Equal("appnet", Cli.InspectFormat("srv", "{{.HostConfig.NetworkMode}}"));

        // network inspect lists both, with their addresses.
        var containers = InspectNetwork("appnet")["Containers"]!.AsObject();
        Assert.Equal(new[] { cliId, srvId }.Order(StringComparer.Ordinal), containers.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Equal("srv", (string?)containers[srvId]!["Name"]);
        Assert.Equal($"{srvIp}/24", (string?)containers[srvId]!["IPv4Address"]);
        Assert.Equal($"{peerIp}/24", (string?)containers[cliId]!["IPv4Address"]);
        Assert.Equal((string?)NetworkSettings("peer")["MacAddress"], (string?)containers[cliId]!["MacAddress"]);

        // Its own bridge in the namespace, with the gateway address; the default bridge is not made.
        Assert.Contains($"inet {gateway}/24 ", Ns.Ipv4Addr(bridge), StringComparison.Ordinal);
        Assert.DoesNotContain(DefaultBridge, Ns.LinkNames());

        // The embedded DNS on the gateway answers names, short IDs and aliases.
        Assert.Equal($"nameserver {gateway}", Cli.Ok("exec", "peer", "cat", "/etc/resolv.conf").Stdout.Trim());
        Assert.Equal([srvIp], Lookup("peer", "srv"));
        Assert.Equal([srvIp], Lookup("peer", "webalias"));
        Assert.Equal([srvIp], Lookup("peer", srvId[..12]));
        Assert.Equal([peerIp], Lookup("srv", "peer"));
        var aliases = NetworkSettings("srv")["Networks"]?["appnet"]?["Aliases"]?.AsArray().Select(a => (string?)a).ToList() ?? [];
        Assert.Contains("webalias", aliases);

        // ...and HTTP by name works end to end.
        AssertContainerGets("peer", "http://srv/", page);
        AssertContainerGets("peer", "http://webalias/", page);
    }

    [Fact]
    public void Containers_on_different_networks_do_not_resolve_each_other()
    {
        Cli.Ok("network", "create", "neta");
        Cli.Ok("network", "create", "netb");
        Cli.RunDetached("--name", "ina", "--network", "neta", Image, "sleep", "1000");
        Cli.RunDetached("--name", "inb", "--network", "netb", Image, "sleep", "1000");
        var aIp = IpOf("ina");
        Assert.Equal([IpOf("inb")], Lookup("inb", "inb"));

        // inb's DNS forwards what it does not know; there is no upstream in the test's namespace, so no answer.
        var r = Cli.Run(TimeSpan.FromSeconds(90), "exec", "inb", "timeout", "20", "nslookup", "ina");
        Assert.True(r.ExitCode != 0 && !NslookupAnswers(r.Stdout).Contains(aIp), $"a container on netb resolved one on neta: {r.Describe()}");
        Assert.NotEqual(InspectNetwork("neta")["IPAM"]!["Config"]![0]!["Subnet"]!.ToString(), InspectNetwork("netb")["IPAM"]!["Config"]![0]!["Subnet"]!.ToString());
    }

    [Fact]
    public void Containers_on_different_networks_cannot_reach_each_other()
    {
        Cli.Ok("network", "create", "isoa");
        Cli.Ok("network", "create", "isob");
        var page = NewPage("isolated");
        Cli.RunDetached(["--name", "targeta", "--network", "isoa", Image, .. Httpd(page)]);
        Cli.RunDetached("--name", "peera", "--network", "isoa", Image, "sleep", "1000");
        Cli.RunDetached("--name", "strangerb", "--network", "isob", Image, "sleep", "1000");
        Cli.RunDetached("--name", "strangerbridge", Image, "sleep", "1000");
        var target = IpOf("targeta");
        AssertContainerGets("peera", $"http://{target}/", page);

        foreach (var stranger in new[] { "strangerb", "strangerbridge" })
        {
            var r = Cli.Run("exec", stranger, "timeout", "5", "wget", "-qO-", $"http://{target}/");
            Assert.True(r.ExitCode != 0 && !r.Stdout.Contains(page, StringComparison.Ordinal),
                $"{stranger}, on another network, reached {target} on isoa: {r.Describe()}");
        }
    }

    [Fact]
    public void An_internal_network_has_no_default_route_but_its_containers_reach_each_other()
    {
        Cli.Ok("network", "create", "--internal", "inner");
        Assert.Equal(true, (bool?)InspectNetwork("inner")["Internal"]);
        var page = NewPage("internal");
        Cli.RunDetached(["--name", "innersrv", "--network", "inner", Image, .. Httpd(page)]);
        Cli.RunDetached("--name", "innercli", "--network", "inner", Image, "sleep", "1000");
        var routes = Cli.Ok("exec", "innercli", "ip", "route").Stdout;
        Assert.DoesNotContain("default", routes, StringComparison.Ordinal);
        Assert.Equal([IpOf("innersrv")], Lookup("innercli", "innersrv"));
        AssertContainerGets("innercli", "http://innersrv/", page);
    }

    [Fact]
    public void A_container_reaches_a_server_the_test_runs_on_its_networks_gateway()
    {
        Cli.Ok("network", "create", "--subnet", "10.99.0.0/24", "gwnet");
        var ipam = Assert.Single(InspectNetwork("gwnet")["IPAM"]!["Config"]!.AsArray())!;
        Assert.Equal("10.99.0.0/24", (string?)ipam["Subnet"]);
        Assert.Equal("10.99.0.1", (string?)ipam["Gateway"]);
        Cli.RunDetached("--name", "caller", "--network", "gwnet", Image, "sleep", "1000");
        Assert.True(InSubnet(IpOf("caller"), "10.99.0.0/24"), "address of caller: " + IpOf("caller"));

        // The bridge (and its address) exists once a container is on it: now the test's server can bind there.
        var port = RandomPort();
        var page = NewPage("on-gateway");
        var server = HostHttpd("10.99.0.1", port, page);
        AssertContainerGets("caller", $"http://10.99.0.1:{port}/", page);
        Assert.False(server.HasExited, "the test's httpd exited: " + server.StderrSoFar);
    }

    [Fact]
    public void Network_create_takes_the_gateway_it_is_given()
    {
        Cli.Ok("network", "create", "--subnet", "10.98.7.0/24", "--gateway", "10.98.7.254", "gw254");
        var ipam = Assert.Single(InspectNetwork("gw254")["IPAM"]!["Config"]!.AsArray())!;
        Assert.Equal("10.98.7.254", (string?)ipam["Gateway"]);
        Cli.RunDetached("--name", "alpha", "--network", "gw254", Image, "sleep", "1000");
        Cli.RunDetached("--name", "beta", "--network", "gw254", Image, "sleep", "1000");
        Assert.Equal("10.98.7.254", (string?)NetworkSettings("alpha")["Gateway"]);
        Assert.Contains("default via 10.98.7.254 dev eth0", Cli.Ok("exec", "alpha", "ip", "route").Stdout, StringComparison.Ordinal);
        Assert.Equal("nameserver 10.98.7.254", Cli.Ok("exec", "alpha", "cat", "/etc/resolv.conf").Stdout.Trim());
        Assert.Equal([IpOf("beta")], Lookup("alpha", "beta"));

        var port = RandomPort();
        var page = NewPage("gateway-254");
        HostHttpd("10.98.7.254", port, page);
        AssertContainerGets("beta", $"http://10.98.7.254:{port}/", page);
    }

    [Fact]
    public void Network_rm_refuses_a_network_with_a_running_container_and_removes_it_after_rm_f()
    {
        // A network no container was ever on (so the data root has no networks/ dir yet) goes at once.
        Cli.Ok("network", "create", "never");
        Assert.Equal("never", Cli.Ok("network", "rm", "never").Stdout.Trim());
        Assert.DoesNotContain("never", Cli.Ok("network", "ls", "--format", "{{.Name}}").Stdout.Lines());

        var netId = Cli.Ok("network", "create", "busy").Stdout.Trim();
        Cli.RunDetached("--name", "holder", "--network", "busy", Image, "sleep", "1000");
        var refused = Cli.Run("network", "rm", "busy");
        Assert.True(refused.ExitCode == 1, "network rm of a network in use must exit 1: " + refused.Describe());
        Assert.Contains("has active endpoints", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains(netId[..12], Cli.Ok("network", "ls", "-q").Stdout.Lines());
        Assert.Equal("running", Cli.InspectFormat("holder", "{{.State.Status}}"));
        Assert.Contains("mdbr-" + netId[..10], Ns.LinkNames());

        Cli.Ok("rm", "-f", "holder");
        Assert.Equal("busy", Cli.Ok("network", "rm", "busy").Stdout.Trim());
        Assert.DoesNotContain(netId[..12], Cli.Ok("network", "ls", "-q").Stdout.Lines());
        Assert.Equal(["lo"], Ns.LinkNames());
        Assert.False(Directory.Exists(NetStateDir), $"{NetStateDir} is left after rm -f and network rm");
        var gone = Cli.Run("network", "inspect", "busy");
        Assert.True(gone.ExitCode != 0 && gone.Stderr.Contains("not found", StringComparison.Ordinal), gone.Describe());

        foreach (var builtin in new[] { "bridge", "host", "none" })
        {
            var r = Cli.Run("network", "rm", builtin);
            Assert.True(r.ExitCode == 1 && r.Stderr.Contains("pre-defined", StringComparison.Ordinal), $"network rm {builtin}: {r.Describe()}");
        }
    }

    [Fact]
    public void Network_ls_lists_and_prune_removes_only_unused_networks()
    {
        var usedId = Cli.Ok("network", "create", "used").Stdout.Trim();
        var idleId = Cli.Ok("network", "create", "idle").Stdout.Trim();
        Cli.RunDetached("--name", "user", "--network", "used", Image, "sleep", "1000");

        var names = Cli.Ok("network", "ls", "--format", "json").Stdout.Lines().Select(l => (string?)JsonNode.Parse(l)!["Name"]).ToList();
        Assert.Equal(["bridge", "host", "idle", "none", "used"], names.Order(StringComparer.Ordinal));
        var ids = Cli.Ok("network", "ls", "-q").Stdout.Lines();
        Assert.Contains(usedId[..12], ids);
        Assert.Contains(idleId[..12], ids);

        var pruned = Cli.Ok("network", "prune", "-f");
        Assert.Contains("idle", pruned.Stdout.Lines());
        Assert.DoesNotContain("used", pruned.Stdout.Lines());
        names = [.. Cli.Ok("network", "ls", "--format", "json").Stdout.Lines().Select(l => (string?)JsonNode.Parse(l)!["Name"])];
        Assert.Equal(["bridge", "host", "none", "used"], names.Order(StringComparer.Ordinal));
        Assert.Equal("running", Cli.InspectFormat("user", "{{.State.Status}}"));
    }
}
