using MiniDock.Containers.Config;
using MiniDock.Images;

namespace MiniDock.Containers.Tests.Config;

/// <summary>process.env: Docker's defaults, then image, env files, -e; HOME last.</summary>
public sealed class EnvTests : IDisposable
{
    private const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private readonly BundleFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Defaults_when_the_image_sets_nothing()
    {
        var r = _f.Build();
        Assert.Equal([DefaultPath, "HOSTNAME=0123456789ab", "HOME=/"], r.Env);
    }

    [Fact]
    public void Tty_adds_term_and_image_path_replaces_the_default_in_place()
    {
        var r = _f.Build(new ImageConfig { Cmd = ["sh"], Env = ["FOO=1", "PATH=/opt/bin"] }, new RunOptions { Tty = true });
        Assert.Equal(["PATH=/opt/bin", "HOSTNAME=0123456789ab", "TERM=xterm", "FOO=1", "HOME=/"], r.Env);
    }

    [Fact]
    public void Later_sources_win_in_place_image_then_env_files_then_dash_e()
    {
        var f1 = Path.Combine(_f.Dir, "a.env");
        var f2 = Path.Combine(_f.Dir, "b.env");
        File.WriteAllText(f1, "A=file1\nB=file1\n");
        File.WriteAllText(f2, "B=file2\nC=file2\n");
        var r = _f.Build(
            new ImageConfig { Cmd = ["sh"], Env = ["A=image", "B=image", "C=image", "D=image"] },
            new RunOptions { EnvFiles = [f1, f2], Env = ["C=cli", "E=cli", "A=cli"] });
        Assert.Equal([DefaultPath, "HOSTNAME=0123456789ab", "A=cli", "B=file2", "C=cli", "D=image", "E=cli", "HOME=/"], r.Env);
    }

    [Fact]
    public void Dash_e_name_takes_the_callers_value_or_removes_the_variable()
    {
        var r = _f.Build(
            new ImageConfig { Cmd = ["sh"], Env = ["UNSET_IN_CALLER=image"] },
            new RunOptions { Env = ["FROM_CALLER", "UNSET_IN_CALLER", "NEVER_SET"] });
        Assert.Contains("FROM_CALLER=caller-value", r.Env);
        Assert.DoesNotContain(r.Env, e => e.StartsWith("UNSET_IN_CALLER", StringComparison.Ordinal) || e.StartsWith("NEVER_SET", StringComparison.Ordinal));
    }

    [Fact]
    public void Hostname_option_and_user_home_reach_the_env()
    {
        _f.StandardEtc();
        var r = _f.Build(options: new RunOptions { Hostname = "web1", User = "alice" });
        Assert.Equal([DefaultPath, "HOSTNAME=web1", "HOME=/home/alice"], r.Env);
    }

    [Fact]
    public void Home_from_the_image_or_cli_is_kept()
    {
        _f.StandardEtc();
        var r = _f.Build(new ImageConfig { Cmd = ["sh"], Env = ["HOME=/data"] }, new RunOptions { User = "alice" });
        Assert.Contains("HOME=/data", r.Env);
        Assert.Single(r.Env, e => e.StartsWith("HOME=", StringComparison.Ordinal));
        r = _f.Build(options: new RunOptions { Env = ["HOME=/x"] });
        Assert.Equal("HOME=/x", Assert.Single(r.Env, e => e.StartsWith("HOME=", StringComparison.Ordinal)));
    }

    [Fact]
    public void Root_gets_home_from_passwd_and_a_user_with_an_empty_home_gets_slash()
    {
        _f.StandardEtc();
        Assert.Contains("HOME=/root", _f.Build().Env);
        Assert.Contains("HOME=/", _f.Build(options: new RunOptions { User = "nohome" }).Env);
        Assert.Contains("HOME=/", _f.Build(options: new RunOptions { User = "4242" }).Env);
    }

    [Fact]
    public void Env_without_a_name_is_rejected()
    {
        var e = Assert.Throws<ContainerException>(() => _f.Build(options: new RunOptions { Env = ["=x"] }));
        Assert.Equal("invalid environment variable: =x", e.Message);
    }

    [Fact]
    public void Env_file_semantics_match_docker()
    {
        var path = Path.Combine(_f.Dir, "x.env");
        File.WriteAllText(path, "\uFEFF# comment\n\n   \nQUOTED=\"a b\"\n  LEADING=spaces kept  \nEMPTY=\nFROM_CALLER\nMISSING_IN_CALLER\r\nWIN=crlf\r\n  # indented comment\nEQ=a=b\n");
        var env = EnvFile.Read(path, _f.CallerEnv);
        Assert.Equal(["QUOTED=\"a b\"", "LEADING=spaces kept  ", "EMPTY=", "FROM_CALLER=caller-value", "WIN=crlf", "EQ=a=b"], env);
    }

    [Theory]
    [InlineData("BAD NAME=x", "contains whitespaces")]
    [InlineData("=value", "no variable name")]
    public void Env_file_bad_names_are_errors(string line, string message)
    {
        var path = Path.Combine(_f.Dir, "bad.env");
        File.WriteAllText(path, "OK=1\n" + line + "\n");
        var e = Assert.Throws<ContainerException>(() => EnvFile.Read(path, _f.CallerEnv));
        Assert.Contains(message, e.Message);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void Env_file_missing_or_not_utf8_is_an_error()
    {
        var missing = Path.Combine(_f.Dir, "nope.env");
        Assert.Equal($"open {missing}: no such file or directory", Assert.Throws<ContainerException>(() => EnvFile.Read(missing, null)).Message);
        var bad = Path.Combine(_f.Dir, "bad.env");
        File.WriteAllBytes(bad, [(byte)'A', (byte)'=', 0xff, 0xfe, (byte)'\n']);
        Assert.Contains("invalid utf8", Assert.Throws<ContainerException>(() => EnvFile.Read(bad, null)).Message);
    }

    [Fact]
    public void Env_file_null_caller_env_reads_the_process_environment()
    {
        var name = "MINIDOCK_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from-process");
        try
        {
            var path = Path.Combine(_f.Dir, "p.env");
            File.WriteAllText(path, name + "\n");
            Assert.Equal([name + "=from-process"], EnvFile.Read(path, null));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
