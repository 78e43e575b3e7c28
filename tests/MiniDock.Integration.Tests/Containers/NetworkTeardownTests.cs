using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Nothing of a container's networking outlives it: after <c>rm -f</c>, and after a SIGKILL of its monitor (then
/// the next command finalizes the dead owner), the test's namespace is back to lo alone, with no iptables rule
/// naming the container or its address, ip_forward restored, no per-namespace state, no pinned netns mount and no
/// embedded DNS process.
/// </summary>
public sealed class NetworkTeardownTests(SandboxFixture sandbox, ITestOutputHelper output) : NetworkTestBase(sandbox, output), IClassFixture<SandboxFixture>
{
    [Fact]
    public void Rm_f_leaves_nothing_of_the_network_in_the_namespace()
    {
        Cli.Ok("network", "create", "tnet");
        var port1 = RandomPort();
        var port2 = port1 + 1;
        var page1 = NewPage("bridge");
        var page2 = NewPage("named");
        var ids = new List<string>
        {
            Cli.RunDetached(["--name", "onbridge", "-p", $"127.0.0.1:{port1}:80", Image, .. Httpd(page1)]),
            Cli.RunDetached(["--name", "onnamed", "--network", "tnet", "--network-alias", "svc", "-p", $"127.0.0.1:{port2}:80", Image, .. Httpd(page2)]),
            Cli.RunDetached("--name", "buddy", "--network", "tnet", Image, "sleep", "1000"),
            Cli.RunDetached("--name", "sharer", "--network", "container:onbridge", Image, "sleep", "1000"),
        };
        var ips = new List<string> { IpOf("onbridge"), IpOf("onnamed"), IpOf("buddy") };
        var seen = ids.SelectMany(LeakCheck.Processes).ToList();
        AssertHostGets($"http://127.0.0.1:{port1}/", page1);
        AssertHostGets($"http://127.0.0.1:{port2}/", page2);
        AssertContainerGets("buddy", "http://svc/", page2);
        AssertNetworkPresent(ids.Take(3).ToList(), ips, dns: true);

        Cli.Ok(["rm", "-f", .. ids]);
        AssertNetworkGone(ids, ips, "after rm -f of every container");
        LeakCheck.AssertNothingLeft(Cli, ids, seen, "after rm -f");

        // The host ports are free again and the network still works for a new container.
        var page3 = NewPage("again");
        var again = Cli.RunDetached(["--name", "again", "--network", "tnet", "-p", $"127.0.0.1:{port2}:80", Image, .. Httpd(page3)]);
        AssertHostGets($"http://127.0.0.1:{port2}/", page3);
        var againIp = IpOf("again");
        Cli.Ok("rm", "-f", "again");
        AssertNetworkGone([again], [againIp], "after rm -f of the second container");
        Cli.Ok("network", "rm", "tnet");
        AssertNetworkGone([again], [againIp], "after network rm");
    }

    [Fact]
    public void A_container_whose_monitor_was_killed_still_serves_and_rm_f_leaves_nothing()
    {
        Cli.Ok("network", "create", "knet");
        var port = RandomPort();
        var page = NewPage("orphan");
        var id = Cli.RunDetached(["--name", "orphan", "--network", "knet", "-p", $"127.0.0.1:{port}:80", Image, .. Httpd(page)]);
        var ip = IpOf("orphan");
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        var seen = KillMonitor(id);

        // The container lives on, with its network: ps says running, the port and its name still answer.
        Assert.Equal("running", (string?)LeakCheck.PsEntry(Cli, "orphan")?["State"]);
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        Cli.RunDetached("--name", "asker", "--network", "knet", Image, "sleep", "1000");
        var asker = LeakCheck.IdOf(Cli, "asker")!;
        Assert.Equal([ip], Lookup("asker", "orphan"));
        AssertContainerGets("asker", "http://orphan/", page);
        AssertNetworkPresent([id, asker], [ip], dns: true);
        seen.AddRange(LeakCheck.Processes(id));
        seen.AddRange(LeakCheck.Processes(asker));

        Cli.Ok("rm", "-f", "orphan", "asker");
        AssertNetworkGone([id, asker], [ip], "after SIGKILL of the monitor and rm -f");
        LeakCheck.AssertNothingLeft(Cli, [id, asker], seen, "after SIGKILL of the monitor and rm -f");
    }

    [Fact]
    public void The_next_command_tears_down_the_network_of_a_container_that_died_with_its_monitor()
    {
        Cli.Ok("network", "create", "dnet");
        var port = RandomPort();
        var page = NewPage("dead");
        var id = Cli.RunDetached(["--name", "dying", "--network", "dnet", "-p", $"127.0.0.1:{port}:80", Image, .. Httpd(page)]);
        var ip = IpOf("dying");
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        AssertNetworkPresent([id], [ip], dns: true);
        var seen = KillMonitor(id);
        seen.AddRange(LeakCheck.KillAll(id));

        // Nobody saw it die; ps (the next command) finds the dead owner and finalizes it, network included.
        var ps = LeakCheck.PsEntry(Cli, "dying")!;
        Assert.Equal("exited", (string?)ps["State"]);
        Assert.StartsWith("Exited (255)", (string?)ps["Status"], StringComparison.Ordinal);
        AssertNetworkGone([id], [ip], "after SIGKILL of the monitor and the container, then ps -a");
        Assert.Equal("", (string?)NetworkSettings("dying")["IPAddress"]);
        var refusedPort = HostGet($"http://127.0.0.1:{port}/");
        Assert.NotEqual(0, refusedPort.ExitCode);

        // It starts again, on its network with its port, and rm -f then leaves nothing.
        Cli.Ok("start", "dying");
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        var ip2 = IpOf("dying");
        Assert.Equal("dnet", ((System.Text.Json.Nodes.JsonObject)NetworkSettings("dying")["Networks"]!).Single().Key);
        seen.AddRange(LeakCheck.Processes(id));
        Cli.Ok("rm", "-f", "dying");
        AssertNetworkGone([id], [ip, ip2], "after start and rm -f");
        LeakCheck.AssertNothingLeft(Cli, [id], seen, "after start and rm -f");
    }

    [Fact]
    public void A_port_conflict_leaves_no_network_state_behind()
    {
        var port = RandomPort();
        var page = NewPage("first");
        var first = Cli.RunDetached(["--name", "first", "-p", $"127.0.0.1:{port}:80", Image, .. Httpd(page)]);
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        var line = Cli.Fails125("run", "-d", "--name", "second", "-p", $"127.0.0.1:{port}:80", Image, "sleep", "1000");
        Assert.Contains("port is already allocated", line, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), line, StringComparison.Ordinal);

        // The first one still serves; the second one holds no veth, rule or address.
        AssertHostGets($"http://127.0.0.1:{port}/", page);
        Assert.Single(Ns.LinkNames(), l => l.StartsWith("veth", StringComparison.Ordinal));
        if (LeakCheck.IdOf(Cli, "second") is { } second)
        {
            Assert.NotEqual("running", Cli.InspectFormat("second", "{{.State.Status}}"));
            Assert.DoesNotContain(second, Ns.IptablesSave(), StringComparison.Ordinal);
        }

        Cli.Ok("rm", "-f", "first");
        LeakCheck.RemoveAll(Cli);
        AssertNetworkGone([first], [], "after a port conflict and rm -f");
    }

    /// <summary>SIGKILLs the container's monitor and waits for it to be gone; returns it, for the leak checks.</summary>
    private List<LeakCheck.Seen> KillMonitor(string id)
    {
        var monitor = Assert.Single(LeakCheck.Monitors(Cli), m => m.Id == id);
        var seen = new List<LeakCheck.Seen> { new(monitor.Pid, LeakCheck.Cmdline(monitor.Pid)!) };
        Native.Kill(monitor.Pid, Native.SIGKILL);
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(monitor.Pid), TimeSpan.FromSeconds(10), () => $"monitor {monitor.Pid} to die");
        return seen;
    }
}
