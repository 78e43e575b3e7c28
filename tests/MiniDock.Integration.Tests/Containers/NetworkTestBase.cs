using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// What the network tests share. Every test gets a network namespace of its own (<see cref="NetNamespace"/>) and a
/// MINIDOCK_ROOT of its own; the sandbox image is pulled first, outside the namespace (the registry listens on the
/// suite's 127.0.0.1), and from then on every minidock command, its Dispose included, runs inside the namespace.
/// The bridges, veths, iptables rules and ip_forward MiniDock sets up are that namespace's, and the tests talk only
/// to addresses inside it: 127.0.0.1, the bridge gateway, the containers.
/// </summary>
public abstract partial class NetworkTestBase : IDisposable
{
    /// <summary>Default bridge of <c>run</c>.</summary>
    public const string DefaultBridge = "minidock0";

    public const string DefaultSubnet = "10.77.0.0/16";

    public const string DefaultGateway = "10.77.0.1";

    private bool _disposed;

    protected NetworkTestBase(SandboxFixture sandbox, ITestOutputHelper output)
    {
        Output = output;
        Ns = new NetNamespace(output);
        try
        {
            Cli = new MinidockCli(output, () => Ns.Describe());
            Image = Cli.Pulled(sandbox);
            Cli.Prefix = Ns.Prefix;
        }
        catch
        {
            Cli?.Dispose();
            Ns.Dispose();
            throw;
        }
    }

    protected ITestOutputHelper Output { get; }

    protected NetNamespace Ns { get; }

    protected MinidockCli Cli { get; }

    protected string Image { get; }

    /// <summary>The busybox the tests run inside the namespace (the host's busybox-static, as the sandbox image's).</summary>
    protected static string HostBusybox => new[] { "/bin/busybox", "/usr/bin/busybox" }.First(File.Exists);

    /// <summary>MiniDock's per-network-namespace state dir for the test's namespace.</summary>
    protected string NetStateDir =>
        Path.Combine(Cli.Env.TryGetValue("MINIDOCK_NET_STATE", out var b) && b.Length > 0 ? b : "/run/minidock/net", Ns.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Containers first, inside the namespace (Cli.Prefix), then any embedded DNS left for this root, then the namespace.
        Cli.Dispose();
        foreach (var pid in NetworkDnsPids(Cli))
        {
            Output.WriteLine($"cleanup: killing leftover network-dns {pid}");
            Native.Kill(pid, Native.SIGKILL);
        }

        // A state dir left by a failed teardown would be found by a later namespace that gets the same inode.
        if (Directory.Exists(NetStateDir))
        {
            Output.WriteLine($"cleanup: removing leftover {NetStateDir}");
            Directory.Delete(NetStateDir, recursive: true);
        }

        Ns.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A host port for <c>-p</c>: any is free in a fresh namespace; a random one makes a stale rule visible.</summary>
    protected static int RandomPort() => Random.Shared.Next(20000, 30000);

    /// <summary>A container command serving <paramref name="page"/> at / with busybox httpd on port 80.</summary>
    protected static string[] Httpd(string page, int port = 80) =>
        ["sh", "-c", $"mkdir -p /www && echo {page} > /www/index.html && exec httpd -f -p {port} -h /www"];

    /// <summary>A page body no other test or container serves.</summary>
    protected static string NewPage(string what) => $"{what}-{Guid.NewGuid():N}";

    /// <summary>A directory with index.html = page, for an httpd the test runs itself.</summary>
    protected string PageDir(string page)
    {
        var dir = Directory.CreateDirectory(Path.Combine(Cli.Dir, "www-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        File.WriteAllText(Path.Combine(dir, "index.html"), page + "\n");
        return dir;
    }

    /// <summary>Starts busybox httpd inside the namespace (not in a container) on ADDR:PORT serving <paramref name="page"/>.</summary>
    protected RunningCommand HostHttpd(string address, int port, string page) =>
        Ns.Start(HostBusybox, "httpd", "-f", "-p", $"{address}:{port}", "-h", PageDir(page));

    /// <summary>One GET from inside the namespace (busybox wget; a hard timeout instead of -T, which crashes busybox 1.35).</summary>
    protected CommandResult HostGet(string url) => Ns.Exec(TimeSpan.FromSeconds(30), "timeout", "15", HostBusybox, "wget", "-qO-", url);

    /// <summary>Waits until a GET of <paramref name="url"/> from inside the namespace returns <paramref name="page"/>.</summary>
    protected void AssertHostGets(string url, string page)
    {
        var last = "";
        CliContainerSupport.Eventually(() =>
        {
            var r = HostGet(url);
            last = r.Describe();
            return r.ExitCode == 0 && r.Stdout.Trim() == page;
        }, $"GET {url} from the test's namespace returns {page}", () => last + "\n" + Ns.Describe());
    }

    /// <summary>Waits until <c>exec CONTAINER wget -qO- URL</c> returns <paramref name="page"/>.</summary>
    protected void AssertContainerGets(string container, string url, string page)
    {
        var last = "";
        CliContainerSupport.Eventually(() =>
        {
            var r = Cli.Run("exec", container, "timeout", "15", "wget", "-qO-", url);
            last = r.Describe();
            return r.ExitCode == 0 && r.Stdout.Trim() == page;
        }, $"GET {url} from container {container} returns {page}", () => last);
    }

    /// <summary><c>.NetworkSettings</c> of inspect.</summary>
    protected JsonObject NetworkSettings(string name) => Cli.InspectContainer(name)["NetworkSettings"]!.AsObject();

    /// <summary><c>.NetworkSettings.IPAddress</c>, checked to be an IPv4 address.</summary>
    protected string IpOf(string name)
    {
        var ip = (string?)NetworkSettings(name)["IPAddress"] ?? "";
        Assert.True(IPAddress.TryParse(ip, out var a) && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork, $"{name} has no IPv4 address in inspect: '{ip}'");
        return ip;
    }

    /// <summary>Whether <paramref name="ip"/> lies in the IPv4 <paramref name="cidr"/>.</summary>
    protected static bool InSubnet(string ip, string cidr) => IPNetwork.Parse(cidr).Contains(IPAddress.Parse(ip));

    /// <summary><c>network inspect NAME</c>: the single object of the array.</summary>
    protected JsonObject InspectNetwork(string name)
    {
        var r = Cli.Ok("network", "inspect", name);
        return Assert.Single(JsonNode.Parse(r.Stdout)!.AsArray())!.AsObject();
    }

    /// <summary>The addresses a busybox <c>nslookup NAME</c> (run in <paramref name="container"/>) answered, waiting until it answers at all.</summary>
    protected IReadOnlyList<string> Lookup(string container, string name)
    {
        var last = "";
        IReadOnlyList<string> found = [];
        CliContainerSupport.Eventually(() =>
        {
            var r = Cli.Run("exec", container, "nslookup", name);
            last = r.Describe();
            found = NslookupAnswers(r.Stdout);
            return r.ExitCode == 0 && found.Count > 0;
        }, $"nslookup {name} in {container} answers", () => last);
        return found;
    }

    /// <summary>The "Address:" lines after the "Name:" line of busybox nslookup's output (the first ones are the server's).</summary>
    protected static IReadOnlyList<string> NslookupAnswers(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.TrimEntries);
        var first = Array.FindIndex(lines, l => l.StartsWith("Name:", StringComparison.Ordinal));
        return first < 0
            ? []
            : [.. lines.Skip(first).Select(l => AddressLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct()];
    }

    /// <summary>The <c>minidock network-dns</c> processes (live, not zombies) started with this MINIDOCK_ROOT.</summary>
    protected static IReadOnlyList<int> NetworkDnsPids(MinidockCli cli)
    {
        var want = "MINIDOCK_ROOT=" + cli.Root;
        var list = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (argv.Length >= 2 && argv[1] == "network-dns" && !RuntimeFixture.ProcessGone(pid)
                    && File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(want))
                {
                    list.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }

        return list;
    }

    /// <summary>
    /// What the containers' networking held in the namespace, while they ran: asserts that it is there, so that
    /// <see cref="AssertNetworkGone"/> could see it left behind (an assertion that cannot fail proves nothing).
    /// </summary>
    protected void AssertNetworkPresent(IReadOnlyList<string> ids, IReadOnlyList<string> ips, bool dns)
    {
        var links = Ns.LinkNames();
        Assert.True(links.Count(l => l.StartsWith("veth", StringComparison.Ordinal)) >= ids.Count, $"a veth per container expected: {string.Join(", ", links)}");
        var rules = Ns.IptablesSave();
        foreach (var id in ids)
        {
            Assert.True(rules.Contains(id, StringComparison.Ordinal), $"no iptables rule names container {id}:\n{rules}");
        }

        foreach (var ip in ips)
        {
            Assert.True(MentionsIp(rules, ip), $"no iptables rule names {ip}:\n{rules}");
        }

        Assert.Equal("1", Ns.IpForward());
        Assert.True(Directory.Exists(NetStateDir), $"the namespace's state dir {NetStateDir} does not exist while containers run");
        Assert.Contains(MountInfo.ReadSelf(), m => ids.Any(id => m.MountPoint == Path.Combine(LeakCheck.ContainerDir(Cli, id), "netns")));
        if (dns)
        {
            Assert.NotEmpty(NetworkDnsPids(Cli));
        }
    }

    /// <summary>
    /// Nothing of the containers' networking is left in the namespace: no link but lo, no iptables line naming a
    /// container ID or address, ip_forward back to 0, no per-namespace state dir, no mount under the test's dir (the
    /// pinned netns), no embedded DNS process of this root.
    /// </summary>
    protected void AssertNetworkGone(IEnumerable<string> ids, IEnumerable<string> ips, string context)
    {
        var problems = new List<string>();
        var links = Ns.LinkNames();
        if (!links.SequenceEqual(["lo"]))
        {
            problems.Add($"links other than lo: {string.Join(", ", links)}\n{Ns.Links()}");
        }

        var rules = Ns.IptablesSave().Split('\n');
        foreach (var id in ids)
        {
            problems.AddRange(rules.Where(l => l.Contains(id, StringComparison.Ordinal)).Select(l => $"iptables rule naming {id[..12]}: {l}"));
        }

        foreach (var ip in ips)
        {
            problems.AddRange(rules.Where(l => MentionsIp(l, ip)).Select(l => $"iptables rule naming {ip}: {l}"));
        }

        var forward = Ns.IpForward();
        if (forward != "0")
        {
            problems.Add($"ip_forward is {forward}, not the 0 it was before");
        }

        if (Directory.Exists(NetStateDir))
        {
            problems.Add($"state dir left: {NetStateDir} ({string.Join(", ", Directory.EnumerateFileSystemEntries(NetStateDir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(NetStateDir, p)))})");
        }

        problems.AddRange(MountInfo.ReadSelf().Where(m => m.MountPoint.StartsWith(Cli.Dir + "/", StringComparison.Ordinal)).Select(m => $"still mounted: {m.MountPoint} ({m.FsType})"));
        problems.AddRange(NetworkDnsPids(Cli).Select(p => $"network-dns process left: {p} {LeakCheck.Cmdline(p)}"));
        Assert.True(problems.Count == 0, $"{context}: the network is not torn down:\n{string.Join("\n", problems)}");
    }

    /// <summary>True when <paramref name="text"/> names the address itself (10.77.0.2, not 10.77.0.20).</summary>
    protected static bool MentionsIp(string text, string ip) =>
        Regex.IsMatch(text, $@"(?<![0-9.]){Regex.Escape(ip)}(?![0-9]|\.[0-9])");

    [GeneratedRegex(@"^Address:\s*(\S+?)(?::53)?$")]
    private static partial Regex AddressLine();
}
