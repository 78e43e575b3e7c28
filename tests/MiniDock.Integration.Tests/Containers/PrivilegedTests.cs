using System.Globalization;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>--privileged</c> as Docker: every capability of this kernel, no filter, no masked paths, /sys writable, the host's devices.</summary>
public sealed class PrivilegedTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private CommandResult Sh(string script, params string[] flags) => _cli.Run(["run", "--rm", .. flags, _cli.Pulled(sandbox), "sh", "-c", script]);

    [Fact]
    public void Privileged_has_every_capability_and_no_filter()
    {
        // Every capability of this kernel (cap_last_cap) that MiniDock holds itself: a nested test host may lack some
        // (then capset could not grant them), and minidock runs with this test's bounding set.
        var lastCap = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
        var ours = new ProcStatus(File.ReadAllText("/proc/self/status")).Hex("CapBnd");
        var all = (ours & ((2UL << lastCap) - 1)).ToString("x16", CultureInfo.InvariantCulture);
        var s = new ProcStatus(_cli.Ok("run", "--rm", "--privileged", _cli.Pulled(sandbox), "cat", "/proc/self/status").Stdout);
        Assert.Equal(all, s["CapEff"]);
        Assert.Equal(all, s["CapBnd"]);
        Assert.Equal("0", s["Seccomp"]);
        Assert.Equal("0", s["NoNewPrivs"]);

        var nnp = new ProcStatus(_cli.Ok("run", "--rm", "--privileged", "--security-opt", "no-new-privileges", _cli.Pulled(sandbox), "cat", "/proc/self/status").Stdout);
        Assert.Equal("1", nnp["NoNewPrivs"]);

        _cli.Ok("create", "--name", "priv", "--privileged", _cli.Pulled(sandbox), "true");
        Assert.Equal("true", _cli.InspectFormat("priv", "{{.HostConfig.Privileged}}"));
    }

    [Fact]
    public void Privileged_can_mount_and_sees_sys_writable_and_proc_unmasked()
    {
        const string script = "mkdir -p /mnt && mount -t tmpfs none /mnt; grep -E ' /(mnt|sys) ' /proc/mounts; wc -c < /proc/interrupts";
        var r = Sh(script, "--privileged");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Contains("none /mnt tmpfs", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("sysfs /sys sysfs rw,", r.Stdout, StringComparison.Ordinal);
        Assert.NotEqual("0", r.Stdout.Lines().Last().Trim()); // /proc/interrupts is not masked

        var plain = Sh(script);
        Assert.DoesNotContain("none /mnt tmpfs", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("sysfs /sys sysfs ro,", plain.Stdout, StringComparison.Ordinal);
        Assert.Equal("0", plain.Stdout.Lines().Last().Trim());
    }

    [Fact]
    public void Privileged_gets_the_hosts_devices_and_may_open_them()
    {
        var hostBlock = Directory.GetFiles("/dev", "loop*").Where(p => char.IsAsciiDigit(p[^1])).Order(StringComparer.Ordinal).FirstOrDefault();
        var r = Sh("ls /dev" + (hostBlock is null ? "" : $" && head -c 1 {hostBlock} > /dev/null && echo opened"), "--privileged");
        Assert.True(r.ExitCode == 0, r.Describe());
        Assert.Contains("null", r.Stdout, StringComparison.Ordinal);
        if (hostBlock is not null)
        {
            Assert.Contains(Path.GetFileName(hostBlock), r.Stdout, StringComparison.Ordinal);
            Assert.Contains("opened", r.Stdout, StringComparison.Ordinal);
        }

        // A host device that only the privileged container has (tty1 is a char device every Linux host has).
        if (File.Exists("/dev/tty1"))
        {
            Assert.Contains("tty1", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("tty1", Sh("ls /dev").Stdout, StringComparison.Ordinal);
        }
    }
}
