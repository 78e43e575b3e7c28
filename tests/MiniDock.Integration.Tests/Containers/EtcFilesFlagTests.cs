using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>--dns</c>, <c>--dns-search</c>, <c>--dns-option</c> and <c>--add-host</c> reach the container's /etc/resolv.conf and /etc/hosts, and keep across a restart.</summary>
public sealed class EtcFilesFlagTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Dns_flags_and_add_host_are_in_the_containers_files_after_a_restart_too()
    {
        var image = _cli.Pulled(sandbox);
        string[] flags = ["--network", "none", "--dns", "192.0.2.53", "--dns-search", "corp.example", "--dns-option", "ndots:2", "--add-host", "db:10.1.2.3"];
        var first = _cli.Ok(["run", "--name", "etc", .. flags, image, "sh", "-c", "cat /etc/resolv.conf /etc/hosts"]).Stdout;
        Assert.Contains("nameserver 192.0.2.53\n", first, StringComparison.Ordinal);
        Assert.Contains("search corp.example\n", first, StringComparison.Ordinal);
        Assert.Contains("options ndots:2\n", first, StringComparison.Ordinal);
        Assert.Contains("10.1.2.3\tdb\n", first, StringComparison.Ordinal);
        Assert.Single(first.Lines(), l => l.StartsWith("nameserver", StringComparison.Ordinal)); // --dns replaced the host's

        var again = _cli.Ok("start", "-a", "etc").Stdout;
        Assert.Equal(first, again);
    }

    [Fact]
    public void A_bad_dns_or_add_host_is_one_line_and_125()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Contains("not an ip address", _cli.Fails125("run", "--rm", "--dns", "resolver.example", image, "true"), StringComparison.Ordinal);
        Assert.Contains("add-host", _cli.Fails125("run", "--rm", "--add-host", "db:nowhere", image, "true"), StringComparison.Ordinal);
    }
}
