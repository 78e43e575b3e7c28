using System.Globalization;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>The default /dev nodes and links, linux.devices, and the devices cgroup.</summary>
public sealed class DeviceTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    public void DefaultDevices_AreCharDevicesWithTheRightNumbers()
    {
        var expected = new Dictionary<string, (int Major, int Minor)>
        {
            ["/dev/null"] = (1, 3),
            ["/dev/zero"] = (1, 5),
            ["/dev/full"] = (1, 7),
            ["/dev/random"] = (1, 8),
            ["/dev/urandom"] = (1, 9),
            ["/dev/tty"] = (5, 0),
        };
        var b = _rt.NewBundle("devs").Args(["stat", "-c", "%n|%F|%t|%T|%a", .. expected.Keys]);
        var seen = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('|'))
            .ToDictionary(f => f[0]);
        foreach (var (path, (major, minor)) in expected)
        {
            Assert.True(seen.TryGetValue(path, out var f), $"{path} missing");
            Assert.Equal("character special file", f[1]);
            Assert.Equal((major, minor), (Hex(f[2]), Hex(f[3])));
            Assert.Equal("666", f[4]);
        }
    }

    [Fact]
    public void DefaultDevices_Work()
    {
        // Reading zero/urandom and writing null must pass the devices cgroup; /dev/full must say ENOSPC.
        var b = _rt.NewBundle("devio").Sh(
            "head -c 16 /dev/zero | wc -c; head -c 16 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok; " +
            "if echo x > /dev/full 2>/dev/null; then echo full-accepted; else echo full-refused; fi");
        var lines = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim());
        Assert.Equal(["16", "16", "null-ok", "full-refused"], lines);
    }

    [Fact]
    public void StandardLinks_Exist()
    {
        string[] links = ["/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"];
        var b = _rt.NewBundle("links").Sh(string.Join("; ", links.Select(l => $"echo \"{l}=$(readlink {l})\"")));
        var seen = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("pts/ptmx", seen["/dev/ptmx"]);
        Assert.Equal("/proc/self/fd", seen["/dev/fd"]);
        Assert.Equal("/proc/self/fd/0", seen["/dev/stdin"]);
        Assert.Equal("/proc/self/fd/1", seen["/dev/stdout"]);
        Assert.Equal("/proc/self/fd/2", seen["/dev/stderr"]);
    }

    [Fact]
    public void LinuxDevices_AreCreatedWithModeAndOwner()
    {
        // The process runs as the node's owner, so the 0600 mode lets it write (root without CAP_DAC_OVERRIDE could not).
        var b = _rt.NewBundle("mydev").Sh("stat -c '%F|%a|%u|%g|%t|%T' /dev/mydev; echo x > /dev/mydev && echo write-ok");
        b.Process["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1000 };
        b.Linux["devices"] = new JsonArray(new JsonObject
        {
            ["path"] = "/dev/mydev",
            ["type"] = "c",
            ["major"] = 1,
            ["minor"] = 3,
            ["fileMode"] = 384, // 0600
            ["uid"] = 1000,
            ["gid"] = 2000,
        });
        b.Resources["devices"]!.AsArray().Add(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = 1, ["minor"] = 3, ["access"] = "rwm" });
        var lines = _rt.RunToCompletion(b).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var f = lines[0].Split('|');
        Assert.Equal("character special file", f[0]);
        Assert.Equal("600", f[1]);
        Assert.Equal("1000", f[2]);
        Assert.Equal("2000", f[3]);
        Assert.Equal((1, 3), (Hex(f[4]), Hex(f[5])));
        Assert.Equal("write-ok", lines[1]);
    }

    [Theory]
    [InlineData(false, "denied")]
    [InlineData(true, "opened")]
    public void DevicesCgroup_OnlyAllowsListedDevices(bool allow, string expected)
    {
        // 1:11 is /dev/kmsg, outside the standard allow list. CAP_SYSLOG is granted so that only the
        // devices cgroup can refuse the open (dmesg_restrict is 1 on the host).
        var b = _rt.NewBundle("kmsg").Sh("if true 2>/dev/null </dev/kmsg-like; then echo opened; else echo denied; fi");
        b.Linux["devices"] = new JsonArray(new JsonObject
        {
            ["path"] = "/dev/kmsg-like",
            ["type"] = "c",
            ["major"] = 1,
            ["minor"] = 11,
            ["fileMode"] = 420, // 0644
        });
        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            b.Process["capabilities"]![set]!.AsArray().Add("CAP_SYSLOG");
        }

        if (allow)
        {
            b.Resources["devices"]!.AsArray().Add(new JsonObject { ["allow"] = true, ["type"] = "c", ["major"] = 1, ["minor"] = 11, ["access"] = "r" });
        }

        Assert.Equal(expected, _rt.RunToCompletion(b).Trim());
    }

    private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
