using System.Net;
using MiniDock.Containers.Config;
using MiniDock.Containers.Networks;

namespace MiniDock.Containers.Tests.Networks;

/// <summary><c>--subnet</c>/<c>--gateway</c> as Docker checks them, the free /24 a network gets without one, and the route table read.</summary>
public sealed class SubnetsTests : IDisposable
{
    private readonly string _table = Path.Combine(Path.GetTempPath(), $"route-{Guid.NewGuid():N}");

    public void Dispose() => File.Delete(_table);

    private static Subnet S(string cidr) => Subnets.Parse(cidr);

    private static string Error(Action a) => Assert.Throws<ContainerException>(a).Message;

    [Theory]
    [InlineData("10.78.0.0/16", "10.78.0.0", 16, "10.78.255.255")]
    [InlineData("192.168.5.0/24", "192.168.5.0", 24, "192.168.5.255")]
    [InlineData("172.16.0.4/30", "172.16.0.4", 30, "172.16.0.7")]
    public void A_valid_cidr_parses_to_its_network_and_prefix(string cidr, string network, int prefix, string broadcast)
    {
        var s = Subnets.Parse(cidr);
        Assert.Equal(network, Subnets.Text(s.Network));
        Assert.Equal(prefix, s.Prefix);
        Assert.Equal(broadcast, Subnets.Text(s.Broadcast));
        Assert.Equal(cidr, s.ToString());
    }

    [Fact]
    public void Host_bits_set_names_the_network_it_should_be()
        => Assert.Equal("invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24", Error(() => Subnets.Parse("10.1.2.3/24")));

    [Theory]
    [InlineData("10.1.2.0")]
    [InlineData("abc/24")]
    [InlineData("10.1.2.0/")]
    [InlineData("10.1.2.0/x")]
    [InlineData("10.1.2.0/+24")]
    [InlineData("10.1.2.0/33")]
    [InlineData("/24")]
    [InlineData("fd00::/64")]
    [InlineData("::ffff:10.1.2.0/120")]
    public void Not_an_ipv4_cidr_is_refused(string cidr)
        => Assert.Equal($"invalid subnet {cidr}: an IPv4 CIDR such as 10.78.0.0/24 is expected", Error(() => Subnets.Parse(cidr)));

    [Theory]
    [InlineData("10.1.2.0/31")]
    [InlineData("10.1.2.1/32")]
    public void Smaller_than_a_slash_30_is_refused(string cidr)
        => Assert.Equal($"invalid subnet {cidr}: too small for containers (at most /30)", Error(() => Subnets.Parse(cidr)));

    [Fact]
    public void The_default_gateway_is_the_first_host_address()
    {
        Assert.Equal("10.1.2.1", Subnets.Gateway(S("10.1.2.0/24"), null));
        Assert.Equal("10.1.2.1", Subnets.Gateway(S("10.1.2.0/24"), ""));
        Assert.Equal("172.16.0.5", Subnets.Gateway(S("172.16.0.4/30"), null));
    }

    [Theory]
    [InlineData("10.1.2.254")]
    [InlineData("10.1.2.1")]
    [InlineData("10.1.2.100")]
    public void An_explicit_host_address_of_the_subnet_is_the_gateway(string gateway)
        => Assert.Equal(gateway, Subnets.Gateway(S("10.1.2.0/24"), gateway));

    [Theory]
    [InlineData("10.1.3.1")]
    [InlineData("10.1.2.0")]
    [InlineData("10.1.2.255")]
    [InlineData("192.168.0.1")]
    public void A_gateway_that_is_not_a_host_address_of_the_subnet_is_refused(string gateway)
        => Assert.Equal($"invalid gateway {gateway}: not a host address of subnet 10.1.2.0/24", Error(() => Subnets.Gateway(S("10.1.2.0/24"), gateway)));

    [Theory]
    [InlineData("fd00::1")]
    [InlineData("gateway")]
    [InlineData("10.1.2.256")]
    public void A_gateway_that_is_not_ipv4_is_refused(string gateway)
        => Assert.Equal($"invalid gateway {gateway}: not an IPv4 address", Error(() => Subnets.Gateway(S("10.1.2.0/24"), gateway)));

    /// <summary>
    /// Docker's net.ParseIP (and the CNI plugins', which get the text verbatim) refuse the legacy inet_aton forms that
    /// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> takes ("10.1.2" is 10.1.0.2, "10.1.0.010" is 10.1.0.8).
    /// </summary>
    [Theory]
    [InlineData("10.1.2")]
    [InlineData("10.1.0.010")]
    [InlineData("0x0a.1.0.9")]
    public void A_gateway_in_a_legacy_inet_aton_form_is_refused(string gateway)
        => Assert.Equal($"invalid gateway {gateway}: not an IPv4 address", Error(() => Subnets.Gateway(S("10.1.0.0/16"), gateway)));

    [Fact]
    public void Choose_starts_at_10_78_0_0()
        => Assert.Equal("10.78.0.0/24", Subnets.Choose([], []).ToString());

    [Fact]
    public void Choose_skips_taken_networks_and_routes()
    {
        Assert.Equal("10.78.1.0/24", Subnets.Choose([S("10.78.0.0/24")], []).ToString());
        Assert.Equal("10.78.1.0/24", Subnets.Choose([], [S("10.78.0.0/24")]).ToString());
        Assert.Equal("10.78.4.0/24", Subnets.Choose([S("10.78.0.0/24"), S("10.78.1.0/24")], [S("10.78.2.0/23")]).ToString());

        // A gap is reused: the first free one, not the one after the highest.
        Assert.Equal("10.78.1.0/24", Subnets.Choose([S("10.78.0.0/24"), S("10.78.2.0/24")], []).ToString());

        // Something unrelated takes nothing.
        Assert.Equal("10.78.0.0/24", Subnets.Choose([S("10.77.0.0/16")], [S("192.168.1.0/24")]).ToString());
    }

    [Fact]
    public void A_slash_16_route_over_10_78_pushes_the_choice_past_it()
        => Assert.Equal("10.79.0.0/24", Subnets.Choose([], [S("10.78.0.0/16")]).ToString());

    [Fact]
    public void A_smaller_route_inside_a_candidate_makes_it_busy()
        => Assert.Equal("10.78.1.0/24", Subnets.Choose([], [S("10.78.0.128/30")]).ToString());

    [Fact]
    public void Nothing_free_is_Dockers_pool_error()
        => Assert.Contains("could not find an available, non-overlapping IPv4 address pool", Error(() => Subnets.Choose([], [S("10.0.0.0/8")])), StringComparison.Ordinal);

    [Fact]
    public void Routes_reads_proc_net_route_little_endian_and_skips_the_default()
    {
        File.WriteAllText(_table,
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n" +
            "eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               \n" +
            "minidock0\t00004D0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                             \n" +
            "eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0                                                                               \n" +
            "short\t0001A8C0\n" +
            "bad\tZZZZZZZZ\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
        var routes = Subnets.Routes(_table);
        Assert.Equal(["10.77.0.0/16", "192.168.1.0/24"], routes.Select(r => r.ToString()).ToList());
    }

    [Fact]
    public void Routes_of_a_missing_table_are_none()
        => Assert.Empty(Subnets.Routes(_table + ".missing"));

    [Fact]
    public void Routes_of_this_process_have_no_default_and_no_host_bits()
        => Assert.All(Subnets.Routes(), r =>
        {
            Assert.InRange(r.Prefix, 1, 32);
            Assert.Equal(r.Network, r.Network & r.Mask);
        });

    [Theory]
    [InlineData("10.77.0.1", 0x0A4D0001u)]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("192.168.1.200", 0xC0A801C8u)]
    public void Text_and_ToUint_round_trip_in_network_order(string text, uint value)
    {
        Assert.Equal(value, Subnets.ToUint(IPAddress.Parse(text)));
        Assert.Equal(text, Subnets.Text(value));
        Assert.Equal(text, Subnets.Text(Subnets.ToUint(IPAddress.Parse(text))));
    }

    [Fact]
    public void Subnet_mask_contains_and_overlaps()
    {
        var a = S("10.78.0.0/16");
        Assert.Equal(0xFFFF0000u, a.Mask);
        Assert.Equal(0u, new Subnet(0, 0).Mask);
        Assert.True(a.Contains(Subnets.ToUint(IPAddress.Parse("10.78.200.1"))));
        Assert.False(a.Contains(Subnets.ToUint(IPAddress.Parse("10.79.0.1"))));
        Assert.True(a.Overlaps(S("10.78.3.0/24")));
        Assert.True(S("10.78.3.0/24").Overlaps(a));
        Assert.False(a.Overlaps(S("10.79.0.0/24")));
        Assert.False(S("10.78.0.0/24").Overlaps(S("10.78.1.0/24")));
    }
}
