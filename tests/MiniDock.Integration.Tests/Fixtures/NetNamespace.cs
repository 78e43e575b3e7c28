using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// A network namespace of the test's own (<c>ip netns add minidock-test-RANDOM</c>, lo up, ip_forward 0), so that
/// what MiniDock does to the network (bridges, veths, NAT and filter rules, ip_forward) happens there and never in
/// the namespace the suite runs in, whichever that is. Commands run inside it through
/// <c>nsenter --net=/run/netns/NAME --</c> (<see cref="Prefix"/>): only the network namespace changes, so mounts,
/// /proc and the file system stay the test's. Dispose kills what <see cref="Start"/> started and deletes the
/// namespace (the /run/netns mount also dies with the suite's private mount namespace).
/// </summary>
public sealed partial class NetNamespace : IDisposable
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly List<RunningCommand> _started = [];

    public NetNamespace(ITestOutputHelper output)
    {
        _output = output;
        Name = "minidock-test-" + Guid.NewGuid().ToString("N")[..12];
        MustRun(Tool("ip"), "netns", "add", Name);
        try
        {
            MustRun(Tool("ip"), "-n", Name, "link", "set", "lo", "up");
            MustRun(Tool("nsenter"), "--net=" + Path, "--", "/bin/sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward");
            Inode = long.Parse(MustRun("stat", "-L", "-c", "%i", Path).Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(IpForward() == "0", "ip_forward of a new namespace could not be set to 0");
        }
        catch
        {
            ProcessRunner.Run(Tool("ip"), ["netns", "del", Name], CommandTimeout);
            throw;
        }

        _output.WriteLine($"network namespace {Name} (inode {Inode})");
    }

    public string Name { get; }

    /// <summary>The namespace's bind mount.</summary>
    public string Path => "/run/netns/" + Name;

    /// <summary>The namespace's inode (<c>stat -L</c> of <see cref="Path"/>): MiniDock keys its per-namespace state by it.</summary>
    public long Inode { get; }

    /// <summary>Prepended to a command line to run it inside the namespace.</summary>
    public string[] Prefix => [Tool("nsenter"), "--net=" + Path, "--"];

    /// <summary>Absolute path of a system tool (sbin dirs may be missing from PATH).</summary>
    public static string Tool(string name) =>
        new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists) ?? name;

    /// <summary>Runs argv inside the namespace to completion.</summary>
    public CommandResult Exec(params string[] argv) => Exec(CommandTimeout, argv);

    public CommandResult Exec(TimeSpan timeout, params string[] argv)
    {
        var r = ProcessRunner.Run(Tool("nsenter"), ["--net=" + Path, "--", .. argv], timeout);
        _output.WriteLine(r.Describe());
        return r;
    }

    /// <summary>Starts argv inside the namespace in the background; Dispose kills it if it still runs (the caller need not dispose it).</summary>
    public RunningCommand Start(params string[] argv)
    {
        var cmd = new RunningCommand(Tool("nsenter"), ["--net=" + Path, "--", .. argv]);
        _started.Add(cmd);
        return cmd;
    }

    /// <summary><c>ip -o link</c> inside the namespace.</summary>
    public string Links() => MustRun(Tool("ip"), "-n", Name, "-o", "link").Stdout;

    /// <summary>The names of the namespace's links (without the <c>@peer</c> part).</summary>
    public IReadOnlyList<string> LinkNames() =>
        [.. Links().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => LinkLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)];

    /// <summary><c>ip -o -4 addr show dev DEV</c> inside the namespace (empty when there is no such device).</summary>
    public string Ipv4Addr(string dev) => ProcessRunner.Run(Tool("ip"), ["-n", Name, "-o", "-4", "addr", "show", "dev", dev], CommandTimeout).Stdout;

    /// <summary>The master (bridge) of a link, or null.</summary>
    public string? MasterOf(string link)
    {
        var line = Links().Split('\n').FirstOrDefault(l => LinkLine().Match(l) is { Success: true } m && m.Groups[1].Value == link);
        return line is not null && MasterWord().Match(line) is { Success: true } mm ? mm.Groups[1].Value : null;
    }

    /// <summary><c>iptables-save</c> inside the namespace (every table).</summary>
    public string IptablesSave() => MustRun(Tool("nsenter"), "--net=" + Path, "--", Tool("iptables-save")).Stdout;

    /// <summary>The namespace's net.ipv4.ip_forward ("0" or "1").</summary>
    public string IpForward() => MustRun(Tool("nsenter"), "--net=" + Path, "--", "cat", "/proc/sys/net/ipv4/ip_forward").Stdout.Trim();

    /// <summary>For failure messages: links, addresses, ip_forward.</summary>
    public string Describe()
    {
        var addr = ProcessRunner.Run(Tool("ip"), ["-n", Name, "-o", "addr"], CommandTimeout).Stdout;
        return $"netns {Name}: ip_forward {IpForward()}\n--- links ---\n{Links()}--- addresses ---\n{addr}";
    }

    public void Dispose()
    {
        foreach (var cmd in _started)
        {
            try
            {
                cmd.Dispose();
            }
            catch (InvalidOperationException)
            {
                // Disposed already by the test.
            }
        }

        var r = ProcessRunner.Run(Tool("ip"), ["netns", "del", Name], CommandTimeout);
        if (r.ExitCode != 0)
        {
            _output.WriteLine($"cleanup: {r.Describe()}");
        }
    }

    private static CommandResult MustRun(string file, params string[] args)
    {
        var r = ProcessRunner.Run(file, args, CommandTimeout);
        if (r.ExitCode != 0)
        {
            throw new InvalidOperationException("network namespace setup/inspection failed: " + r.Describe());
        }

        return r;
    }

    /// <summary>"3: veth1234@if2: &lt;...&gt;" → "veth1234".</summary>
    [GeneratedRegex(@"^\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:")]
    private static partial Regex LinkLine();

    [GeneratedRegex(@"\smaster\s+(\S+)")]
    private static partial Regex MasterWord();
}
