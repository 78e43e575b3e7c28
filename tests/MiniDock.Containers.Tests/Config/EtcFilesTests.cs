using MiniDock.Containers.Config;

namespace MiniDock.Containers.Tests.Config;

/// <summary><c>--dns</c>, <c>--dns-search</c>, <c>--dns-option</c> and <c>--add-host</c> as Docker applies them to the files it binds.</summary>
public sealed class EtcFilesTests : IDisposable
{
    private readonly string _resolv = Path.Combine(Path.GetTempPath(), $"resolv-{Guid.NewGuid():N}.conf");

    public EtcFilesTests() => File.WriteAllText(_resolv, "# host\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0\n");

    public void Dispose() => File.Delete(_resolv);

    [Fact]
    public void Without_flags_the_hosts_resolvers_stay_minus_loopback()
    {
        var text = EtcFiles.ResolvConf(false, _resolv, [], [], []);
        Assert.Equal("# host\nnameserver 192.0.2.1\nsearch corp.example\noptions edns0\n", text);
    }

    [Fact]
    public void Each_given_kind_replaces_the_hosts_lines_of_that_kind_only()
    {
        Assert.Equal("# host\nsearch corp.example\noptions edns0\nnameserver 198.51.100.7\nnameserver 2001:db8::1\n",
            EtcFiles.ResolvConf(false, _resolv, ["198.51.100.7", "2001:db8::1"], [], []));
        Assert.Equal("# host\nnameserver 192.0.2.1\nsearch a.example b.example\noptions ndots:2 timeout:1\n",
            EtcFiles.ResolvConf(false, _resolv, [], ["a.example", "b.example"], ["ndots:2", "timeout:1"]));
    }

    [Fact]
    public void Add_host_lines_follow_the_defaults_and_ipv6_keeps_its_colons()
    {
        var extra = EtcFiles.ParseAddHosts(["db:10.0.0.5", "v6=2001:db8::2", "br:[2001:db8::3]"]);
        var hosts = EtcFiles.Hosts(false, null, extra);
        Assert.StartsWith(EtcFiles.DefaultHosts, hosts, StringComparison.Ordinal);
        Assert.EndsWith("10.0.0.5\tdb\n2001:db8::2\tv6\n2001:db8::3\tbr\n", hosts, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nocolon")]
    [InlineData(":10.0.0.1")]
    [InlineData("db:not-an-ip")]
    [InlineData("db:")]
    public void A_bad_add_host_is_refused_with_Dockers_words(string value)
        => Assert.Contains("--add-host", Assert.Throws<ContainerException>(() => EtcFiles.ParseAddHosts([value])).Message, StringComparison.Ordinal);

    [Fact]
    public void A_dns_that_is_not_an_address_is_refused()
        => Assert.Contains("is not an ip address", Assert.Throws<ContainerException>(() => EtcFiles.CheckDns(["dns.example"])).Message, StringComparison.Ordinal);
}
