using System.Net;
using System.Net.Sockets;
using MiniDock.Containers.Config;
using MiniDock.Containers.Networks;

namespace MiniDock.Containers.Tests.Networks;

/// <summary>Host ports handed out at start as Docker's allocator does: conflicts refused in its words, "any port" from the ephemeral range.</summary>
public sealed class PortAllocatorTests
{
    private static PortMapping M(string ip, int host, int container, string proto = "tcp") => new(ip, host, container, proto);

    private static readonly Func<string, int, string, bool> Free = (_, _, _) => true;

    private static HashSet<(string Ip, int Port, string Proto)> InUse(params (string, int, string)[] items) => [.. items];

    private static string Error(Action a) => Assert.Throws<ContainerException>(a).Message;

    [Fact]
    public void Explicit_free_ports_are_kept_as_asked_in_order()
    {
        PortMapping[] wanted = [M("127.0.0.1", 8080, 80), M("", 8080, 80, "udp"), M("10.0.0.1", 8080, 81)];
        Assert.Equal(wanted, PortAllocator.Assign(wanted, InUse(("192.168.1.1", 8080, "tcp")), Free));
    }

    [Fact]
    public void A_port_held_on_all_addresses_blocks_it_on_one_address()
        => Assert.Equal("Bind for 127.0.0.1:8080 failed: port is already allocated",
            Error(() => PortAllocator.Assign([M("127.0.0.1", 8080, 80)], InUse(("", 8080, "tcp")), Free)));

    [Fact]
    public void A_port_held_on_one_address_blocks_it_on_all_addresses_shown_as_0000()
        => Assert.Equal("Bind for 0.0.0.0:8080 failed: port is already allocated",
            Error(() => PortAllocator.Assign([M("", 8080, 80)], InUse(("127.0.0.1", 8080, "tcp")), Free)));

    [Theory]
    [InlineData("0.0.0.0", "127.0.0.1")]
    [InlineData("::", "127.0.0.1")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "0:0:0:0:0:0:0:1")]
    public void Every_spelling_of_all_addresses_or_the_same_address_conflicts(string held, string asked)
        => Assert.StartsWith($"Bind for {asked}:8080 failed",
            Error(() => PortAllocator.Assign([M(asked, 8080, 80)], InUse((held, 8080, "tcp")), Free)), StringComparison.Ordinal);

    [Fact]
    public void Two_mappings_of_one_container_on_the_same_port_conflict_too()
        => Assert.Equal("Bind for 0.0.0.0:8080 failed: port is already allocated",
            Error(() => PortAllocator.Assign([M("127.0.0.1", 8080, 80), M("", 8080, 81)], InUse(), Free)));

    [Fact]
    public void A_port_the_host_cannot_bind_is_refused_with_the_same_words()
    {
        var asked = new List<(string, int, string)>();
        var message = Error(() => PortAllocator.Assign([M("", 8080, 80, "udp")], InUse(), (ip, port, proto) =>
        {
            asked.Add((ip, port, proto));
            return false;
        }));
        Assert.Equal("Bind for 0.0.0.0:8080 failed: port is already allocated", message);
        Assert.Equal([("", 8080, "udp")], asked);
    }

    [Fact]
    public void Random_ports_come_from_the_ephemeral_range_and_differ()
    {
        var got = PortAllocator.Assign([M("", 0, 80), M("", 0, 81), M("", 0, 82)], InUse(), Free);
        Assert.All(got, m => Assert.InRange(m.HostPort, PortAllocator.EphemeralFirst, PortAllocator.EphemeralLast));
        Assert.Equal(3, got.Select(m => m.HostPort).Distinct().Count());
        Assert.Equal([80, 81, 82], got.Select(m => m.ContainerPort));
    }

    [Fact]
    public void Random_assignment_skips_ports_in_use_on_any_address()
    {
        var inUse = new HashSet<(string Ip, int Port, string Proto)>();
        for (var p = PortAllocator.EphemeralFirst; p <= PortAllocator.EphemeralLast; p++)
        {
            if (p != 45000)
            {
                inUse.Add((p % 2 == 0 ? "127.0.0.1" : "", p, "tcp"));
            }
        }

        var before = inUse.Count;
        Assert.Equal([M("", 45000, 80)], PortAllocator.Assign([M("", 0, 80)], inUse, Free));
        Assert.Equal(before, inUse.Count);

        // The same ports for udp are free: only the protocol that holds a port blocks it.
        Assert.Equal("udp", Assert.Single(PortAllocator.Assign([M("", 0, 53, "udp")], inUse, (_, p, _) => p == 50001)).Protocol);
    }

    [Fact]
    public void Random_assignment_skips_ports_the_host_cannot_bind_and_ones_taken_by_the_same_container()
    {
        var got = PortAllocator.Assign([M("", 0, 80), M("", 40000, 81)], InUse(), (_, p, _) => p is 40000 or 40001);
        Assert.Equal([M("", 40001, 80), M("", 40000, 81)], got);
    }

    [Fact]
    public void No_free_port_at_all_is_an_error()
        => Assert.Contains("all ports are allocated", Error(() => PortAllocator.Assign([M("", 0, 80)], InUse(), (_, _, _) => false)), StringComparison.Ordinal);

    [Fact]
    public void A_host_range_gets_its_first_free_port()
    {
        var wanted = PortSpec.Parse("127.0.0.1:8000-8003:80");
        var got = PortAllocator.Assign(wanted, InUse(("", 8000, "tcp")), (_, p, _) => p != 8001);
        Assert.Equal([M("127.0.0.1", 8002, 80)], got);
        Assert.Null(got[0].HostRange);
    }

    [Fact]
    public void A_full_host_range_is_refused()
        => Assert.Equal("Bind for 0.0.0.0:8000-8001 failed: port is already allocated",
            Error(() => PortAllocator.Assign(PortSpec.Parse("8000-8001:80"), InUse(("10.0.0.1", 8000, "tcp"), ("10.0.0.2", 8001, "tcp")), Free)));

    [Fact]
    public void By_default_a_port_a_host_process_listens_on_is_refused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Assert.False(PortAllocator.CanBind("127.0.0.1", port, "tcp"));
            Assert.Equal($"Bind for 127.0.0.1:{port} failed: port is already allocated",
                Error(() => PortAllocator.Assign([M("127.0.0.1", port, 80)], InUse())));
            Assert.Equal($"Bind for 0.0.0.0:{port} failed: port is already allocated",
                Error(() => PortAllocator.Assign([M("", port, 80)], InUse())));
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void By_default_a_bound_udp_port_is_refused_and_a_free_port_is_not()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;
        Assert.False(PortAllocator.CanBind("127.0.0.1", port, "udp"));

        var got = Assert.Single(PortAllocator.Assign([M("127.0.0.1", 0, 80)], InUse()));
        Assert.InRange(got.HostPort, PortAllocator.EphemeralFirst, PortAllocator.EphemeralLast);
        Assert.True(PortAllocator.CanBind("127.0.0.1", got.HostPort, "tcp"));
    }

    [Fact]
    public void By_default_an_address_the_host_does_not_have_is_an_error_that_says_why()
        => Assert.StartsWith("cannot bind 192.0.2.123:8080/tcp: ",
            Error(() => PortAllocator.CanBind("192.0.2.123", 8080, "tcp")), StringComparison.Ordinal);
}
