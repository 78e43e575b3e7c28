using MiniDock.Containers.Config;
using MiniDock.Containers.Networks;

namespace MiniDock.Containers.Tests.Networks;

/// <summary><c>-p</c>, <c>--expose</c> and <c>-P</c> as Docker parses them, and the text <c>docker ps</c> and <c>docker port</c> print.</summary>
public sealed class PortSpecTests
{
    private static PortMapping M(string ip, int host, int container, string proto = "tcp") => new(ip, host, container, proto);

    private static string Error(Action a) => Assert.Throws<ContainerException>(a).Message;

    [Fact]
    public void A_container_port_alone_is_published_on_a_port_of_the_daemons_choice()
        => Assert.Equal([M("", 0, 80)], PortSpec.Parse("80"));

    [Fact]
    public void Host_port_and_container_port()
        => Assert.Equal([M("", 8080, 80)], PortSpec.Parse("8080:80"));

    [Fact]
    public void Host_address_host_port_container_port_and_protocol()
        => Assert.Equal([M("127.0.0.1", 8080, 80, "udp")], PortSpec.Parse("127.0.0.1:8080:80/udp"));

    [Fact]
    public void An_address_with_an_empty_host_port_is_a_random_port_on_that_address()
    {
        Assert.Equal([M("127.0.0.1", 0, 80)], PortSpec.Parse("127.0.0.1::80"));
        Assert.Equal([M("", 0, 80)], PortSpec.Parse("::80"));
    }

    [Fact]
    public void An_ipv6_host_address_loses_its_brackets_and_works_without_them_too()
    {
        Assert.Equal([M("::1", 8080, 80)], PortSpec.Parse("[::1]:8080:80"));
        Assert.Equal([M("::1", 0, 80)], PortSpec.Parse("[::1]::80"));
        Assert.Equal([M("2001:db8::5", 8080, 80)], PortSpec.Parse("2001:db8::5:8080:80"));
    }

    [Theory]
    [InlineData("80/TCP", "tcp")]
    [InlineData("80/Udp", "udp")]
    [InlineData("80/sctp", "sctp")]
    [InlineData("80/", "tcp")]
    public void The_protocol_is_case_insensitive_and_defaults_to_tcp(string spec, string proto)
        => Assert.Equal(proto, Assert.Single(PortSpec.Parse(spec)).Protocol);

    [Fact]
    public void Equal_ranges_publish_one_mapping_per_port()
    {
        Assert.Equal([M("", 8000, 9000), M("", 8001, 9001), M("", 8002, 9002)], PortSpec.Parse("8000-8002:9000-9002"));
        Assert.Equal([M("10.0.0.1", 0, 53, "udp"), M("10.0.0.1", 0, 54, "udp")], PortSpec.Parse("10.0.0.1::53-54/udp"));
        Assert.Equal([M("", 0, 7000), M("", 0, 7001)], PortSpec.Parse("7000-7001"));
    }

    [Fact]
    public void A_host_range_for_one_container_port_lets_the_daemon_choose_within_it()
    {
        var m = Assert.Single(PortSpec.Parse("127.0.0.1:8000-8010:80"));
        Assert.Equal(M("127.0.0.1", 0, 80) with { HostRange = (8000, 8010) }, m);
        Assert.Equal("80/tcp", m.Key);
    }

    [Theory]
    [InlineData("8080:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8080")]
    [InlineData("8000-8001:9000-9002", "invalid ranges specified for container and host Ports: 9000-9002 and 8000-8001")]
    [InlineData("abc:80", "invalid hostPort: abc")]
    [InlineData("0:80", "invalid hostPort: 0")]
    [InlineData("70000:80", "invalid hostPort: 70000")]
    [InlineData("8002-8000:80", "invalid hostPort: 8002-8000")]
    [InlineData("-1:80", "invalid hostPort: -1")]
    [InlineData("8080:0", "invalid containerPort: 0")]
    [InlineData("8080:abc", "invalid containerPort: abc")]
    [InlineData("65536", "invalid containerPort: 65536")]
    [InlineData("81-80/udp", "invalid containerPort: 81-80")]
    [InlineData("1-2-3", "invalid containerPort: 1-2-3")]
    [InlineData(" 80", "invalid containerPort:  80")]
    [InlineData("80/icmp", "invalid proto: icmp")]
    [InlineData("8080:80/tcp/x", "invalid proto: tcp/x")]
    [InlineData("1.2.3:80:80", "invalid IP address: 1.2.3")]
    [InlineData("01.2.3.4:80:80", "invalid IP address: 01.2.3.4")]
    [InlineData("256.1.1.1:80:80", "invalid IP address: 256.1.1.1")]
    [InlineData("localhost:80:80", "invalid IP address: localhost")]
    [InlineData("[::1:80:80", "invalid IP address: [::1")]
    [InlineData("[]:80:80", "invalid IP address: []")]
    [InlineData("fe80::1%eth0:80:80", "invalid IP address: fe80::1%eth0")]
    [InlineData("", "no port specified: <empty>")]
    [InlineData("8080:", "no port specified: 8080:<empty>")]
    [InlineData("8080:/udp", "no port specified: 8080:/udp<empty>")]
    public void Bad_specs_are_refused_in_Dockers_words(string spec, string message)
        => Assert.Equal(message, Error(() => PortSpec.Parse(spec)));

    [Fact]
    public void Expose_takes_a_port_or_a_range_with_an_optional_protocol()
    {
        Assert.Equal(["80/tcp"], PortSpec.ParseExpose("80"));
        Assert.Equal(["8000/udp", "8001/udp", "8002/udp"], PortSpec.ParseExpose("8000-8002/udp"));
        Assert.Equal(["53/udp"], PortSpec.ParseExpose("53/UDP"));
    }

    [Theory]
    [InlineData("8080:80", "invalid port format for --expose: 8080:80")]
    [InlineData("abc", "invalid range format for --expose: abc")]
    [InlineData("90-80", "invalid range format for --expose: 90-80")]
    [InlineData("0", "invalid range format for --expose: 0")]
    [InlineData("", "invalid range format for --expose: ")]
    [InlineData("80/icmp", "invalid proto: icmp")]
    public void Bad_expose_values_are_refused(string spec, string message)
        => Assert.Equal(message, Error(() => PortSpec.ParseExpose(spec)));

    [Fact]
    public void Publish_all_gives_each_exposed_port_once_a_random_port_sorted_by_port_then_protocol()
    {
        var all = PortSpec.PublishAll(["8080", "80/udp", "53/udp", "80/tcp", "8080/tcp", "53/udp"]);
        Assert.Equal([M("", 0, 53, "udp"), M("", 0, 80, "tcp"), M("", 0, 80, "udp"), M("", 0, 8080, "tcp")], all);
    }

    [Fact]
    public void Publish_all_of_nothing_is_nothing_and_a_bad_key_is_refused()
    {
        Assert.Empty(PortSpec.PublishAll([]));
        Assert.Equal("invalid proto: icmp", Error(() => PortSpec.PublishAll(["80/icmp"])));
    }

    [Fact]
    public void Merge_does_not_publish_again_a_port_published_explicitly()
    {
        var explicitOnes = PortSpec.Parse("8080:80");
        var merged = PortSpec.Merge(explicitOnes, PortSpec.PublishAll(["80/tcp", "80/udp", "443/tcp"]));
        Assert.Equal([M("", 8080, 80), M("", 0, 80, "udp"), M("", 0, 443)], merged);
    }

    [Fact]
    public void Ps_lists_mappings_to_other_host_ports_one_by_one_sorted_by_container_port()
        => Assert.Equal("0.0.0.0:32768->53/udp, 127.0.0.1:8080->80/tcp",
            PortSpec.PsColumn([M("127.0.0.1", 8080, 80), M("", 32768, 53, "udp")]));

    [Fact]
    public void Ps_collapses_consecutive_ports_published_on_the_same_numbers()
    {
        Assert.Equal("0.0.0.0:8000-8002->8000-8002/tcp", PortSpec.PsColumn(PortSpec.Parse("8000-8002:8000-8002")));
        Assert.Equal("127.0.0.1:8000-8001->8000-8001/tcp, 127.0.0.1:8003->8003/tcp",
            PortSpec.PsColumn([M("127.0.0.1", 8003, 8003), M("127.0.0.1", 8001, 8001), M("127.0.0.1", 8000, 8000)]));
        Assert.Equal("0.0.0.0:8000-8001->8000-8001/tcp, 0.0.0.0:8000-8001->8000-8001/udp",
            PortSpec.PsColumn([.. PortSpec.Parse("8000-8001:8000-8001/udp"), .. PortSpec.Parse("8000-8001:8000-8001")]));
    }

    [Fact]
    public void Ps_puts_the_groups_before_the_mappings_to_other_ports()
        => Assert.Equal("0.0.0.0:9000->9000/tcp, 0.0.0.0:8080->80/tcp",
            PortSpec.PsColumn([M("", 8080, 80), M("", 9000, 9000)]));

    [Fact]
    public void Ps_shows_ports_without_a_host_port_yet_as_Docker_shows_exposed_ones()
        => Assert.Equal("53/udp, 80-81/tcp", PortSpec.PsColumn([M("", 0, 81), M("", 0, 53, "udp"), M("", 0, 80)]));

    [Fact]
    public void Ps_brackets_ipv6_addresses_and_prints_nothing_for_no_ports()
    {
        Assert.Equal("[::1]:8080->8080/tcp, [::1]:9000->80/tcp", PortSpec.PsColumn([M("::1", 9000, 80), M("::1", 8080, 8080)]));
        Assert.Equal("", PortSpec.PsColumn([]));
    }

    private static readonly PortMapping[] Published =
    [
        M("127.0.0.1", 8080, 80), M("", 9000, 80, "udp"), M("", 32768, 53, "udp"), M("", 0, 81), M("::1", 8443, 443), M("", 8081, 80),
    ];

    [Fact]
    public void Port_without_a_filter_lists_every_published_mapping_by_container_port_then_protocol()
        => Assert.Equal(["53/udp -> 0.0.0.0:32768", "80/tcp -> 0.0.0.0:8081", "80/tcp -> 127.0.0.1:8080", "80/udp -> 0.0.0.0:9000", "443/tcp -> [::1]:8443"],
            PortSpec.PortLines(Published, null, "web"));

    [Fact]
    public void Port_with_a_filter_lists_that_ports_addresses_and_a_bare_port_means_tcp()
    {
        Assert.Equal(["0.0.0.0:8081", "127.0.0.1:8080"], PortSpec.PortLines(Published, "80", "web"));
        Assert.Equal(["0.0.0.0:8081", "127.0.0.1:8080"], PortSpec.PortLines(Published, "80/tcp", "web"));
        Assert.Equal(["0.0.0.0:9000"], PortSpec.PortLines(Published, "80/udp", "web"));
        Assert.Equal(["[::1]:8443"], PortSpec.PortLines(Published, "443", "web"));
    }

    [Theory]
    [InlineData("81", "No public port '81/tcp' published for web")]
    [InlineData("53", "No public port '53/tcp' published for web")]
    [InlineData("8080/tcp", "No public port '8080/tcp' published for web")]
    [InlineData("abc", "invalid port (abc)")]
    [InlineData("70000/udp", "invalid port (70000)")]
    public void Port_with_a_filter_that_matches_nothing_is_an_error(string filter, string message)
        => Assert.Equal(message, Error(() => PortSpec.PortLines(Published, filter, "web")));

    [Fact]
    public void Port_of_a_container_without_ports_prints_nothing()
        => Assert.Empty(PortSpec.PortLines([], null, "web"));

    [Fact]
    public void Json_round_trips_addresses_ports_protocols_and_host_ranges()
    {
        PortMapping[] ports = [M("", 0, 80), M("127.0.0.1", 8080, 8080, "udp"), M("::1", 0, 443) with { HostRange = (8000, 8010) }, M("", 1, 65535, "sctp")];
        var json = PortSpec.ToJson(ports);
        Assert.Contains("\"HostRange\":[8000,8010]", json, StringComparison.Ordinal);
        Assert.Equal(ports, PortSpec.FromJson(json));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("[]")]
    public void No_json_is_no_ports(string? json)
        => Assert.Empty(PortSpec.FromJson(json));

    [Fact]
    public void An_empty_list_is_an_empty_array()
        => Assert.Equal("[]", PortSpec.ToJson([]));
}
