using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// The default bridge network and the other modes of <c>--network</c> (none, host, container:NAME), and published
/// ports (<c>-p</c>, <c>-P</c>) reached from the test's own network namespace.
/// </summary>
public sealed class NetworkBridgeTests(SandboxFixture sandbox, ITestOutputHelper output) : NetworkTestBase(sandbox, output), IClassFixture<SandboxFixture>
{
    [Fact]
    public void Run_puts_a_container_on_the_default_bridge()
    {
        var id = Cli.RunDetached("--name", "plain", Image, "sleep", "1000");
        var settings = NetworkSettings("plain");
        var ip = IpOf("plain");
        Assert.True(InSubnet(ip, DefaultSubnet), $"the default bridge's address {ip} is not in {DefaultSubnet}: {settings.ToJsonString()}");
        Assert.Equal(DefaultGateway, (string?)settings["Gateway"]);
        Assert.Equal(16, (int?)settings["IPPrefixLen"]);
        var mac = (string?)settings["MacAddress"] ?? "";
        Assert.Matches("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", mac);
        var bridge = settings["Networks"]?["bridge"];
        Assert.True(bridge is not null, $"inspect's Networks has no 'bridge': {settings.ToJsonString()}");
        Assert.Equal(ip, (string?)bridge["IPAddress"]);
        Assert.Equal(DefaultGateway, (string?)bridge["Gateway"]);
        Assert.Equal(mac, (string?)bridge["MacAddress"]);
        Assert.Equal("bridge", Cli.InspectFormat("plain", "{{.HostConfig.NetworkMode}}"));
        Assert.Equal("bridge", (string?)LeakCheck.PsEntry(Cli, "plain")?["Networks"]);

        // The container's side: eth0 has that address and MAC, the default route goes to the gateway.
        var eth0 = Cli.Ok("exec", "plain", "ip", "-o", "addr", "show", "dev", "eth0").Stdout;
        Assert.Contains($"inet {ip}/16 ", eth0, StringComparison.Ordinal);
        Assert.Contains(mac, Cli.Ok("exec", "plain", "cat", "/sys/class/net/eth0/address").Stdout, StringComparison.Ordinal);
        Assert.Contains($"default via {DefaultGateway} dev eth0", Cli.Ok("exec", "plain", "ip", "route").Stdout, StringComparison.Ordinal);

        // /etc/hosts names the container by its hostname (the short ID) at its address.
        var hostname = Cli.Ok("exec", "plain", "hostname").Stdout.Trim();
        Assert.Equal(id[..12], hostname);
        var hosts = Cli.Ok("exec", "plain", "cat", "/etc/hosts").Stdout;
        Assert.Contains($"{ip}\t{hostname}\n", hosts, StringComparison.Ordinal);

        // The namespace's side: the bridge with the gateway address, the container's veth on it, forwarding on.
        Assert.Contains($"inet {DefaultGateway}/16 ", Ns.Ipv4Addr(DefaultBridge), StringComparison.Ordinal);
        var veths = Ns.LinkNames().Where(l => l.StartsWith("veth", StringComparison.Ordinal)).ToList();
        var veth = Assert.Single(veths);
        Assert.Equal(DefaultBridge, Ns.MasterOf(veth));
        Assert.Equal("1", Ns.IpForward());
        Assert.Equal(Path.Combine(LeakCheck.ContainerDir(Cli, id), "netns"), (string?)settings["SandboxKey"]);
        Assert.True(File.Exists(Path.Combine(LeakCheck.ContainerDir(Cli, id), "network.json")), "no network.json (the CNI result) in the container dir");
    }

    [Fact]
    public void The_default_bridge_has_the_hosts_resolvers_without_loopback_ones()
    {
        Cli.RunDetached("--name", "resolv", Image, "sleep", "1000");
        var inside = Nameservers(Cli.Ok("exec", "resolv", "cat", "/etc/resolv.conf").Stdout);
        Assert.True(inside.Count > 0, "the container's resolv.conf names no nameserver");
        Assert.DoesNotContain(inside, ns => ns.StartsWith("127.", StringComparison.Ordinal) || ns == "::1");
        var host = File.Exists("/etc/resolv.conf") ? Nameservers(File.ReadAllText("/etc/resolv.conf")) : [];
        var hostUsable = host.Where(ns => !ns.StartsWith("127.", StringComparison.Ordinal) && ns != "::1").ToList();
        if (hostUsable.Count > 0)
        {
            Assert.Equal(hostUsable.Where(ns => !ns.Contains(':', StringComparison.Ordinal)), inside.Where(ns => !ns.Contains(':', StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void A_port_published_on_127_0_0_1_serves_the_containers_httpd()
    {
        var port = RandomPort();
        var page = NewPage("published");
        Cli.RunDetached(["--name", "web", "-p", $"127.0.0.1:{port}:80", Image, .. Httpd(page)]);
        AssertHostGets($"http://127.0.0.1:{port}/", page);

        Assert.Equal($"80/tcp -> 127.0.0.1:{port}", Cli.Ok("port", "web").Stdout.Trim());
        Assert.Equal($"127.0.0.1:{port}", Cli.Ok("port", "web", "80").Stdout.Trim());
        Assert.Equal($"127.0.0.1:{port}", Cli.Ok("port", "web", "80/tcp").Stdout.Trim());
        Assert.Equal($"127.0.0.1:{port}->80/tcp", (string?)LeakCheck.PsEntry(Cli, "web")?["Ports"]);
        var table = Cli.Ok("ps").Stdout.Lines();
        Assert.Contains(table, l => l.Contains($"127.0.0.1:{port}->80/tcp", StringComparison.Ordinal) && l.TrimEnd().EndsWith("web", StringComparison.Ordinal));

        var inspect = Cli.InspectContainer("web");
        var binding = Assert.Single(inspect["NetworkSettings"]!["Ports"]!["80/tcp"]!.AsArray())!;
        Assert.Equal("127.0.0.1", (string?)binding["HostIp"]);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)binding["HostPort"]);
        var configured = Assert.Single(inspect["HostConfig"]!["PortBindings"]!["80/tcp"]!.AsArray())!;
        Assert.Equal("127.0.0.1", (string?)configured["HostIp"]);
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)configured["HostPort"]);

        // Bound to 127.0.0.1 only: the same port on the bridge's address is not the container's.
        var other = HostGet($"http://{DefaultGateway}:{port}/");
        Assert.True(other.ExitCode != 0 && !other.Stdout.Contains(page, StringComparison.Ordinal),
            $"a port published on 127.0.0.1 answers on {DefaultGateway} too: {other.Describe()}");

        // The container's server is also reachable at its own address, from the namespace (through the bridge).
        AssertHostGets($"http://{IpOf("web")}/", page);
    }

    [Fact]
    public void Publish_all_maps_every_exposed_port_to_a_random_host_port()
    {
        var page = NewPage("publish-all");
        Cli.RunDetached(["--name", "pall", "-P", "--expose", "80", "--expose", "8081", Image, .. Httpd(page)]);
        var lines = Cli.Ok("port", "pall").Stdout.Lines().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, lines.Count);
        var ports = new Dictionary<string, int>();
        foreach (var line in lines)
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^(\d+/tcp) -> 0\.0\.0\.0:(\d+)$");
            Assert.True(m.Success, $"port line: '{line}'");
            var hostPort = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(hostPort, 32768, 60999);
            ports[m.Groups[1].Value] = hostPort;
        }

        Assert.Equal(["80/tcp", "8081/tcp"], ports.Keys.Order(StringComparer.Ordinal));
        Assert.NotEqual(ports["80/tcp"], ports["8081/tcp"]);
        Assert.Equal($"0.0.0.0:{ports["80/tcp"]}", Cli.Ok("port", "pall", "80").Stdout.Trim());
        var inspected = NetworkSettings("pall")["Ports"]!["80/tcp"]!.AsArray();
        Assert.Equal(ports["80/tcp"].ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)Assert.Single(inspected)!["HostPort"]);

        // Published on every address of the namespace: 127.0.0.1 and the bridge's.
        AssertHostGets($"http://127.0.0.1:{ports["80/tcp"]}/", page);
        AssertHostGets($"http://{DefaultGateway}:{ports["80/tcp"]}/", page);
    }

    [Fact]
    public void A_container_reaches_a_server_the_test_runs_on_the_bridge_gateway()
    {
        Cli.RunDetached("--name", "client", Image, "sleep", "1000");
        Assert.Contains($"inet {DefaultGateway}/16 ", Ns.Ipv4Addr(DefaultBridge), StringComparison.Ordinal);
        var port = RandomPort();
        var page = NewPage("gateway");
        var server = HostHttpd(DefaultGateway, port, page);
        AssertContainerGets("client", $"http://{DefaultGateway}:{port}/", page);

        // A second container, run in the foreground, too.
        var r = Cli.Ok("run", "--rm", Image, "wget", "-qO-", $"http://{DefaultGateway}:{port}/");
        Assert.Equal(page, r.Stdout.Trim());
        Assert.False(server.HasExited, "the test's httpd exited: " + server.StderrSoFar);
    }

    [Fact]
    public void Network_none_has_only_loopback()
    {
        var r = Cli.Ok("run", "--rm", "--network", "none", Image, "ip", "-o", "link");
        var links = r.Stdout.Lines().Select(l => l.Split(':')[1].Trim()).ToList();
        Assert.Equal(["lo"], links);
        Assert.Contains("LOWER_UP", r.Stdout, StringComparison.Ordinal);

        Cli.RunDetached("--name", "isolated", "--network", "none", Image, "sleep", "1000");
        Assert.Equal("none", Cli.InspectFormat("isolated", "{{.HostConfig.NetworkMode}}"));
        Assert.Equal("", (string?)NetworkSettings("isolated")["IPAddress"]);
        Assert.Equal(["lo"], Ns.LinkNames());
        Assert.Equal("0", Ns.IpForward());
    }

    [Fact]
    public void Network_host_is_the_namespace_minidock_runs_in()
    {
        var port = RandomPort();
        var page = NewPage("host-mode");
        HostHttpd("127.0.0.1", port, page);
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        var r = Cli.Ok("run", "--rm", "--network", "host", Image, "wget", "-qO-", $"http://127.0.0.1:{port}/");
        Assert.Equal(page, r.Stdout.Trim());
        var links = Cli.Ok("run", "--rm", "--network", "host", Image, "ip", "-o", "link").Stdout.Lines().Select(l => l.Split(':')[1].Trim().Split('@')[0]).ToList();
        Assert.Equal(Ns.LinkNames(), links);
    }

    [Fact]
    public void Network_container_shares_the_other_containers_interfaces_and_loopback()
    {
        var page = NewPage("shared-stack");
        var serverId = Cli.RunDetached(["--name", "stack", Image, .. Httpd(page)]);
        var ip = IpOf("stack");
        Cli.RunDetached("--name", "sidecar", "--network", "container:stack", Image, "sleep", "1000");

        var mode = Cli.InspectFormat("sidecar", "{{.HostConfig.NetworkMode}}");
        Assert.True(mode == "container:stack" || mode == "container:" + serverId, $"NetworkMode: {mode}");
        Assert.Contains($"inet {ip}/16 ", Cli.Ok("exec", "sidecar", "ip", "-o", "-4", "addr", "show", "dev", "eth0").Stdout, StringComparison.Ordinal);
        Assert.Equal(
            Cli.Ok("exec", "stack", "cat", "/sys/class/net/eth0/address").Stdout.Trim(),
            Cli.Ok("exec", "sidecar", "cat", "/sys/class/net/eth0/address").Stdout.Trim());
        AssertContainerGets("sidecar", "http://127.0.0.1/", page);

        // One veth for the two of them.
        Assert.Single(Ns.LinkNames(), l => l.StartsWith("veth", StringComparison.Ordinal));
    }

    private static List<string> Nameservers(string resolvConf) =>
        [.. resolvConf.Split('\n', StringSplitOptions.TrimEntries)
            .Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && f[0] == "nameserver")
            .Select(f => f[1])];
}
