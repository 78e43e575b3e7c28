using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// What <c>run</c>'s flags and the image config make of the container's process: user, environment, host name,
/// working directory, entrypoint, rlimits, read-only root, labels and stop signal, seen from inside the container.
/// </summary>
public sealed class RunConfigTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("dev", "uid=1000(dev) gid=1000(dev) groups=10(wheel),1000(dev)")]
    [InlineData("1000", "uid=1000(dev) gid=1000(dev) groups=10(wheel),1000(dev)")]
    [InlineData("1000:1000", "uid=1000(dev) gid=1000(dev) groups=1000(dev)")]
    [InlineData("dev:wheel", "uid=1000(dev) gid=10(wheel) groups=10(wheel)")]
    [InlineData("nobody", "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)")]
    [InlineData("0", "uid=0(root) gid=0(root) groups=0(root)")]
    public void User_flag_sets_uid_gid_and_groups_as_id_reports_them(string user, string expected)
    {
        // A name or a uid alone takes the passwd entry's group and the user's supplementary groups; an explicit group replaces them.
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "-u", user, image, "id");
        Assert.Equal(expected + "\n", r.Stdout);
    }

    [Fact]
    public void Default_user_is_root_with_home_from_passwd()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", image, "sh", "-c", "id -u; echo $HOME");
        Assert.Equal("0\n/root\n", r.Stdout);
        Assert.Equal("/home/dev\n", _cli.Ok("run", "--rm", "-u", "dev", image, "sh", "-c", "echo $HOME").Stdout);
    }

    [Fact]
    public void Read_only_root_refuses_writes_and_the_exit_code_is_the_command_own()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Run("run", "--rm", "--read-only", image, "sh", "-c", "touch /probe && echo wrote; exit 4");
        Assert.True(r.ExitCode == 4, r.Describe());
        Assert.Contains("Read-only file system", r.Stderr);
        Assert.DoesNotContain("wrote", r.Stdout);

        // Docker's --read-only leaves /tmp read-only too (only --tmpfs makes it writable).
        var tmp = _cli.Run("run", "--rm", "--read-only", image, "touch", "/tmp/probe");
        Assert.NotEqual(0, tmp.ExitCode);

        // The same write without --read-only works: the refusal above is the flag's doing.
        Assert.Equal("wrote\n", _cli.Ok("run", "--rm", image, "sh", "-c", "touch /probe && echo wrote").Stdout);
    }

    [Fact]
    public void Env_flags_env_file_and_image_env_make_the_environment()
    {
        var image = _cli.Pulled(sandbox);
        var file = Path.Combine(_cli.Dir, "vars.env");
        File.WriteAllText(file, "# a comment line\nFROM_FILE=file value\n\nPASSED_THROUGH\nOVERRIDDEN=from file\nEMPTY=\nNOT_IN_CALLER\n");
        _cli.Env["PASSED_THROUGH"] = "from the caller";
        _cli.Env["FLAG_PASSED"] = "caller flag value";
        var r = _cli.Ok("run", "--rm", "--env-file", file, "-e", "OVERRIDDEN=from flag", "-e", "FLAG=1", "-e", "FLAG_PASSED", "-e", "FLAG_UNSET_IN_CALLER", image, "env");
        var env = r.Stdout.Lines();
        Assert.Contains("PATH=/bin", env);
        Assert.Contains("FROM_FILE=file value", env);
        Assert.Contains("PASSED_THROUGH=from the caller", env);
        Assert.Contains("OVERRIDDEN=from flag", env);
        Assert.DoesNotContain("OVERRIDDEN=from file", env);
        Assert.Contains("EMPTY=", env);
        Assert.Contains("FLAG=1", env);
        Assert.Contains("FLAG_PASSED=caller flag value", env);
        Assert.Contains("HOME=/root", env);
        Assert.DoesNotContain(env, l => l.StartsWith("NOT_IN_CALLER", StringComparison.Ordinal) || l.StartsWith("FLAG_UNSET_IN_CALLER", StringComparison.Ordinal));
        Assert.DoesNotContain(env, l => l.StartsWith('#'));
        Assert.Single(env, l => l.StartsWith("HOSTNAME=", StringComparison.Ordinal));
    }

    [Fact]
    public void Env_flag_can_replace_the_image_PATH()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal("/usr/bin:/bin\n", _cli.Ok("run", "--rm", "-e", "PATH=/usr/bin:/bin", image, "sh", "-c", "echo $PATH").Stdout);
    }

    [Fact]
    public void A_missing_env_file_is_our_error()
    {
        var image = _cli.Pulled(sandbox);
        var line = _cli.Fails125("run", "--rm", "--env-file", Path.Combine(_cli.Dir, "absent.env"), image, "true");
        Assert.Contains("absent.env", line);
    }

    [Fact]
    public void Hostname_defaults_to_the_short_id_and_HOSTNAME_matches_it()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--name", "named", image, "sh", "-c", "hostname; echo $HOSTNAME; cat /etc/hostname");
        var id = _cli.InspectFormat("named", "{{.Id}}");
        var shortId = id[..12];
        Assert.Equal($"{shortId}\n{shortId}\n{shortId}\n", r.Stdout);
        Assert.Equal(shortId, _cli.InspectFormat("named", "{{.Config.Hostname}}"));
    }

    [Fact]
    public void Hostname_flag_sets_the_uts_name_HOSTNAME_and_etc_hostname()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "--hostname", "box.example", image, "sh", "-c", "hostname; echo $HOSTNAME; cat /etc/hostname");
        Assert.Equal("box.example\nbox.example\nbox.example\n", r.Stdout);
    }

    [Fact]
    public void Network_host_shares_the_host_name()
    {
        var image = _cli.Pulled(sandbox);
        var host = ProcessRunner.Run("hostname", [], TimeSpan.FromSeconds(10)).Stdout.Trim();
        Assert.Equal(host + "\n", _cli.Ok("run", "--rm", "--network", "host", image, "hostname").Stdout);
    }

    [Fact]
    public void Network_none_has_only_loopback()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "--network", "none", image, "cat", "/proc/net/dev");
        var interfaces = r.Stdout.Lines().Skip(2).Select(l => l.Split(':')[0].Trim()).ToList();
        Assert.Equal(["lo"], interfaces);
    }

    [Fact]
    public void Network_none_has_a_working_loopback_as_Dockers()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", image, "sh", "-c", "ip link show lo; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok");
        Assert.Contains("UP", r.Stdout.Lines()[0].Split('<', '>')[1].Split(','));
        Assert.Contains("ping-ok", r.Stdout.Lines());
    }

    [Fact]
    public void Workdir_flag_is_created_when_missing_and_becomes_the_cwd()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal("/new/work/dir\n", _cli.Ok("run", "--rm", "-w", "/new/work/dir", image, "pwd").Stdout);
        Assert.Equal("/\n", _cli.Ok("run", "--rm", image, "pwd").Stdout);
        Assert.Contains("absolute", _cli.Fails125("run", "--rm", "-w", "relative", image, "pwd"));
    }

    [Fact]
    public void Entrypoint_flag_takes_the_command_as_its_arguments()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal("hello world\n", _cli.Ok("run", "--rm", "--entrypoint", "echo", image, "hello", "world").Stdout);

        // Without arguments the entrypoint runs alone: the image's Cmd (sh) is dropped, as Docker does.
        Assert.Equal("\n", _cli.Ok("run", "--rm", "--entrypoint", "echo", image).Stdout);
    }

    [Fact]
    public void Image_cmd_runs_when_no_command_is_given()
    {
        // Cmd is ["sh"]: with stdin at /dev/null it reads nothing and exits 0.
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "default-cmd", image);
        Assert.Equal("sh", _cli.InspectFormat("default-cmd", "{{.Path}}"));
    }

    [Fact]
    public void Ulimit_flag_sets_soft_and_hard_nofile()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal("100\n200\n", _cli.Ok("run", "--rm", "--ulimit", "nofile=100:200", image, "sh", "-c", "ulimit -n; ulimit -Hn").Stdout);
        Assert.Equal("150\n150\n", _cli.Ok("run", "--rm", "--ulimit", "nofile=150", image, "sh", "-c", "ulimit -n; ulimit -Hn").Stdout);
    }

    [Fact]
    public void Default_nofile_never_exceeds_the_host_hard_limit()
    {
        var image = _cli.Pulled(sandbox);
        var host = ProcessRunner.Run("/bin/sh", ["-c", "ulimit -Hn"], TimeSpan.FromSeconds(10)).Stdout.Trim();
        var r = _cli.Ok("run", "--rm", image, "sh", "-c", "ulimit -n; ulimit -Hn");
        var lines = r.Stdout.Lines();
        Assert.Equal(2, lines.Length);
        var soft = ParseLimit(lines[0]);
        var hard = ParseLimit(lines[1]);
        Assert.True(hard <= ParseLimit(host), $"container hard nofile {hard} is above the host's {host}");
        Assert.True(soft <= hard, $"soft {soft} above hard {hard}");
        Assert.True(soft >= 1024, $"soft nofile {soft} is unusably low");
    }

    [Fact]
    public void Config_labels_hold_the_image_labels_with_label_flags_over_them()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("create", "--name", "labelled", "--label", "team=core", "--label", "flag-only", image, "true");
        var labels = _cli.InspectContainer("labelled")["Config"]!["Labels"]!.AsObject();
        Assert.Equal("minidock sandbox", (string?)labels[SandboxFixture.Label]);
        Assert.Equal("core", (string?)labels["team"]);
        Assert.Equal("", (string?)labels["flag-only"]);

        _cli.Ok("create", "--name", "overridden", "--label", $"{SandboxFixture.Label}=mine", image, "true");
        Assert.Equal("mine", (string?)_cli.InspectContainer("overridden")["Config"]!["Labels"]![SandboxFixture.Label]);

        // ps filters on the container's own labels.
        Assert.Equal(["labelled"], _cli.Ok("ps", "-a", "--filter", "label=team=core", "--format", "{{.Names}}").Stdout.Lines());
    }

    [Fact]
    public void Stop_signal_comes_from_the_image_unless_the_flag_overrides_it()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("create", "--name", "plain", image, "true");
        Assert.Equal("SIGTERM", _cli.InspectFormat("plain", "{{.Config.StopSignal}}"));

        _cli.RunDetached("--name", "usr1", "--stop-signal", "SIGUSR1", image, "sh", "-c", "trap 'echo got usr1; exit 42' USR1; echo ready; while true; do sleep 0.1; done");
        _cli.WaitForLog("usr1", "ready");
        Assert.Equal("SIGUSR1", _cli.InspectFormat("usr1", "{{.Config.StopSignal}}"));
        _cli.Ok("stop", "-t", "30", "usr1");
        Assert.Equal("42 exited", _cli.InspectFormat("usr1", "{{.State.ExitCode}} {{.State.Status}}"));
        Assert.Contains("got usr1", _cli.Ok("logs", "usr1").Stdout);
    }

    private static long ParseLimit(string s) => s.Trim() == "unlimited" ? long.MaxValue : long.Parse(s.Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
