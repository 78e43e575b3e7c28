using System.ComponentModel;
using System.Text.Json.Nodes;
using MiniDock.Containers.Config;
using MiniDock.Containers.Networks.Cni;

namespace MiniDock.Containers.Tests.Networks;

/// <summary>The CNI spec's error object, read into one line.</summary>
public sealed class CniErrorTextTests
{
    [Fact]
    public void Msg_and_details_are_joined()
        => Assert.Equal("boom: more", CniInvoker.ErrorText("""{"cniVersion":"1.0.0","code":7,"msg":"boom","details":"more"}""", "ignored stderr", 1));

    [Fact]
    public void Msg_alone_and_empty_details_are_the_msg()
    {
        Assert.Equal("boom", CniInvoker.ErrorText("""{"code":7,"msg":"boom"}""", "", 1));
        Assert.Equal("boom", CniInvoker.ErrorText("""{"code":7,"msg":"boom","details":""}""", "", 1));
    }

    [Fact]
    public void Not_json_is_the_stderr_text_on_one_line()
    {
        Assert.Equal("failed to set up: no such device", CniInvoker.ErrorText("garbage", "failed to set up:\nno such device", 2));
        Assert.Equal("plain words from stdout", CniInvoker.ErrorText("  plain words from stdout\n", "", 2));
    }

    [Fact]
    public void Json_without_msg_falls_back_to_stderr()
        => Assert.Equal("stderr says", CniInvoker.ErrorText("""{"code":7}""", "stderr says", 1));

    [Fact]
    public void Nothing_at_all_is_the_exit_status()
        => Assert.Equal("exit status 3", CniInvoker.ErrorText("", "", 3));
}

/// <summary>Everything that sets CNI_PATH (read by <see cref="CniPlugins"/>) runs alone: the variable is the process's.</summary>
[CollectionDefinition(nameof(CniPathEnvironment), DisableParallelization = true)]
public sealed class CniPathEnvironment;

/// <summary>Real plugin runs: shell scripts that record what the CNI execution protocol gave them.</summary>
[Collection(nameof(CniPathEnvironment))]
public sealed class CniInvokerTests : IDisposable
{
    private const string Result = """{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.5/24","gateway":"10.9.0.1","interface":0}],"interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/x"}]}""";

    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-cni-").FullName;
    private readonly string? _savedPath = Environment.GetEnvironmentVariable("CNI_PATH");
    private readonly string? _savedArgs = Environment.GetEnvironmentVariable("CNI_ARGS");

    public CniInvokerTests()
    {
        Script("fakecni", $"""
            #!/bin/sh
            env | grep '^CNI_' | sort > "{_dir}/env.$CNI_COMMAND"
            cat > "{_dir}/stdin.$CNI_COMMAND"
            if [ "$CNI_COMMAND" = ADD ]; then
                printf '%s' '{Result}'
            fi
            exit 0
            """);
        Script("failcni", """
            #!/bin/sh
            cat > /dev/null
            printf '%s' '{"cniVersion":"1.0.0","code":7,"msg":"boom","details":"more"}'
            echo "stderr noise" >&2
            exit 1
            """);
        Script("notjsoncni", """
            #!/bin/sh
            cat > /dev/null
            echo 'this is not json'
            """);

        // A directory that does not exist comes first: the search goes on to the next one.
        Environment.SetEnvironmentVariable("CNI_PATH", Path.Combine(_dir, "missing") + "::" + _dir);
        Environment.SetEnvironmentVariable("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=x");
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("CNI_PATH", _savedPath);
        Environment.SetEnvironmentVariable("CNI_ARGS", _savedArgs);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Add_passes_the_protocols_environment_and_config_and_returns_the_result()
    {
        var config = new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = "testnet", ["type"] = "fakecni", ["bridge"] = "mdbr-x" };
        var result = Run(() => CniInvoker.Invoke("ADD", config, "cid", "/proc/self/ns/net", "eth0"));

        Assert.NotNull(result);
        Assert.Equal("10.9.0.5/24", (string)result["ips"]![0]!["address"]!);
        Assert.Equal("aa:bb:cc:dd:ee:ff", (string)result["interfaces"]![0]!["mac"]!);
        Assert.Equal(JsonNode.Parse(Result)!.ToJsonString(), result.ToJsonString());

        var env = File.ReadAllLines(Path.Combine(_dir, "env.ADD"));
        Assert.Contains("CNI_COMMAND=ADD", env);
        Assert.Contains("CNI_CONTAINERID=cid", env);
        Assert.Contains("CNI_NETNS=/proc/self/ns/net", env);
        Assert.Contains("CNI_IFNAME=eth0", env);
        Assert.Contains($"CNI_PATH={Path.Combine(_dir, "missing")}:{_dir}", env);
        Assert.DoesNotContain(env, l => l.StartsWith("CNI_ARGS=", StringComparison.Ordinal));

        var stdin = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "stdin.ADD")))!;
        Assert.Equal(config.ToJsonString(), stdin.ToJsonString());
    }

    [Fact]
    public void Del_is_run_and_returns_null()
    {
        var config = new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = "testnet", ["type"] = "fakecni", ["prevResult"] = JsonNode.Parse(Result) };
        Assert.Null(Run(() => CniInvoker.Invoke("DEL", config, "cid2", "", "eth0")));
        var env = File.ReadAllLines(Path.Combine(_dir, "env.DEL"));
        Assert.Contains("CNI_COMMAND=DEL", env);
        Assert.Contains("CNI_CONTAINERID=cid2", env);
        Assert.Contains("CNI_NETNS=", env);
        Assert.Equal(config.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "stdin.DEL")))!.ToJsonString());
        Assert.False(File.Exists(Path.Combine(_dir, "env.ADD")));
    }

    [Fact]
    public void A_failing_plugin_is_one_line_with_the_spec_error()
    {
        var config = new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = "testnet", ["type"] = "failcni" };
        var e = Assert.Throws<ContainerException>(() => Run(() => CniInvoker.Invoke("ADD", config, "cid", "/proc/self/ns/net", "eth0")));
        Assert.Contains("boom: more", e.Message, StringComparison.Ordinal);
        Assert.Equal("network testnet: CNI failcni ADD: boom: more", e.Message);
    }

    [Fact]
    public void An_add_result_that_is_not_json_is_an_error()
    {
        var config = new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = "testnet", ["type"] = "notjsoncni" };
        var e = Assert.Throws<ContainerException>(() => Run(() => CniInvoker.Invoke("ADD", config, "cid", "/proc/self/ns/net", "eth0")));
        Assert.StartsWith("CNI notjsoncni ADD printed a result that is not JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_plugin_names_the_package_to_install()
    {
        var config = new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = "testnet", ["type"] = "nosuchplugin" };
        var e = Assert.Throws<ContainerException>(() => CniInvoker.Invoke("ADD", config, "cid", "/proc/self/ns/net", "eth0"));
        Assert.Contains("containernetworking-plugins", e.Message, StringComparison.Ordinal);
        Assert.Contains("'nosuchplugin' not found in", e.Message, StringComparison.Ordinal);
        Assert.Contains(_dir, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_without_a_type_is_refused()
        => Assert.Equal("CNI config without a type", Assert.Throws<ContainerException>(() => CniInvoker.Invoke("ADD", new JsonObject { ["name"] = "x" }, "cid", "", "eth0")).Message);

    [Fact]
    public void Find_searches_cni_path_in_order_and_defaults_to_debians_and_upstreams_dirs()
    {
        Assert.Equal([Path.Combine(_dir, "missing"), _dir], CniPlugins.Dirs());
        Assert.Equal(Path.Combine(_dir, "fakecni"), CniPlugins.Find("fakecni"));

        var first = Directory.CreateDirectory(Path.Combine(_dir, "first")).FullName;
        File.WriteAllText(Path.Combine(first, "fakecni"), "");
        Environment.SetEnvironmentVariable("CNI_PATH", first + ":" + _dir);
        Assert.Equal(Path.Combine(first, "fakecni"), CniPlugins.Find("fakecni"));

        Environment.SetEnvironmentVariable("CNI_PATH", null);
        Assert.Equal(["/usr/lib/cni", "/opt/cni/bin"], CniPlugins.Dirs());
    }

    /// <summary>
    /// A script just written may still be open in a child another test thread forked (before its exec closes the
    /// descriptor): exec then fails with ETXTBSY for a moment. Retried, as that is the test's doing, not the code's.
    /// </summary>
    private static T Run<T>(Func<T> invoke)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return invoke();
            }
            catch (Win32Exception e) when (e.NativeErrorCode == 26 && attempt < 50)
            {
                Thread.Sleep(20);
            }
        }
    }

    private void Script(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
