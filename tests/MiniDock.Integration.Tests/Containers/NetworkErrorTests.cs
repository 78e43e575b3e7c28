using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// What <c>run</c> and <c>network</c> refuse, in Docker's words and exit codes, and that a refusal changes nothing
/// in the namespace: an unknown network, missing CNI plugins (where <c>--network none</c> still works), conflicting
/// options, duplicate and bad networks.
/// </summary>
public sealed class NetworkErrorTests(SandboxFixture sandbox, ITestOutputHelper output) : NetworkTestBase(sandbox, output), IClassFixture<SandboxFixture>
{
    [Fact]
    public void Run_on_an_unknown_network_fails_125_and_creates_nothing()
    {
        var line = Cli.Fails125("run", "--name", "lost", "--network", "nope", Image, "true");
        Assert.Contains("network nope not found", line, StringComparison.Ordinal);
        Assert.Equal("", Cli.Ok("ps", "-aq").Stdout.Trim());
        Assert.Equal(["lo"], Ns.LinkNames());
        Assert.Equal("0", Ns.IpForward());

        var inspect = Cli.Run("network", "inspect", "nope");
        Assert.True(inspect.ExitCode != 0 && inspect.Stderr.Contains("network nope not found", StringComparison.Ordinal), inspect.Describe());
        var rm = Cli.Run("network", "rm", "nope");
        Assert.True(rm.ExitCode != 0 && rm.Stderr.Contains("network nope not found", StringComparison.Ordinal), rm.Describe());
    }

    [Fact]
    public void Missing_cni_plugins_fail_125_naming_the_package_and_network_none_still_runs()
    {
        Cli.Ok("network", "create", "nocni");
        Cli.Env["CNI_PATH"] = "/nonexistent";
        var line = Cli.Fails125("run", "--rm", Image, "true");
        Assert.Contains("containernetworking-plugins", line, StringComparison.Ordinal);
        line = Cli.Fails125("run", "--rm", "--network", "nocni", Image, "true");
        Assert.Contains("containernetworking-plugins", line, StringComparison.Ordinal);
        Assert.Equal(["lo"], Ns.LinkNames());
        Assert.Equal("0", Ns.IpForward());
        Assert.False(Directory.Exists(NetStateDir), $"{NetStateDir} exists although no network was set up");

        var r = Cli.Ok("run", "--rm", "--network", "none", Image, "echo", "none-works");
        Assert.Equal("none-works", r.Stdout.Trim());
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Port_publishing_conflicts_with_another_containers_network()
    {
        Cli.RunDetached("--name", "owner", Image, "sleep", "1000");
        var line = Cli.Fails125("run", "--rm", "--network", "container:owner", "-p", "8080:80", Image, "true");
        Assert.Contains("conflicting options: port publishing and the container type network mode", line, StringComparison.Ordinal);
        var missing = Cli.Fails125("run", "--rm", "--network", "container:ghost", Image, "true");
        Assert.Contains("ghost", missing, StringComparison.Ordinal);
    }

    [Fact]
    public void Network_create_refuses_duplicates_overlaps_and_bad_subnets()
    {
        Cli.Ok("network", "create", "dup");
        Assert.Contains("network with name dup already exists", Cli.Fails125("network", "create", "dup"), StringComparison.Ordinal);
        Assert.Contains("overlaps", Cli.Fails125("network", "create", "--subnet", "10.77.5.0/24", "overlap"), StringComparison.Ordinal);
        Assert.Contains("bogus", Cli.Fails125("network", "create", "--subnet", "bogus", "badsubnet"), StringComparison.Ordinal);
        var names = Cli.Ok("network", "ls", "--format", "{{.Name}}").Stdout.Lines();
        Assert.DoesNotContain("overlap", names);
        Assert.DoesNotContain("badsubnet", names);
        Assert.Equal(["lo"], Ns.LinkNames());
    }
}
