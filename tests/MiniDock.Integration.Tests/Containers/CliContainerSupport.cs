using System.Diagnostics;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>What the container CLI tests share: a pulled image, detached runs, inspect as JSON, and bounded polling.</summary>
internal static class CliContainerSupport
{
    /// <summary>Bound on every wait for a container to reach a state (generous: the suite runs four classes at once on 2 CPUs).</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(45);

    /// <summary>Pulls the sandbox image, so that later commands' stderr holds only their own lines (no pull progress).</summary>
    public static string Pulled(this MinidockCli cli, SandboxFixture sandbox)
    {
        cli.Ok("pull", "-q", sandbox.Image);
        return sandbox.Image;
    }

    /// <summary><c>run -d ARGS</c>: returns the full container ID it printed.</summary>
    public static string RunDetached(this MinidockCli cli, params string[] args)
    {
        var r = cli.Ok(["run", "-d", .. args]);
        var id = r.Stdout.Trim();
        Assert.True(id.Length == 64 && id.All(char.IsAsciiHexDigitLower), "run -d prints the 64-hex container ID: " + r.Describe());
        return id;
    }

    /// <summary><c>inspect NAME</c>: the single container object of the array.</summary>
    public static JsonObject InspectContainer(this MinidockCli cli, string name)
    {
        var r = cli.Ok("inspect", name);
        var array = JsonNode.Parse(r.Stdout)!.AsArray();
        return Assert.Single(array)!.AsObject();
    }

    /// <summary><c>inspect -f TEMPLATE NAME</c>, without the trailing newline.</summary>
    public static string InspectFormat(this MinidockCli cli, string name, string template)
        => cli.Ok("inspect", "-f", template, name).Stdout.TrimEnd('\n');

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="describe"/> when <see cref="WaitLimit"/> runs out.</summary>
    public static void Eventually(Func<bool> condition, string what, Func<string> describe)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > WaitLimit)
            {
                Assert.Fail($"{what}: not so after {WaitLimit.TotalSeconds:F0} s\n{describe()}");
            }

            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until the container's log (stdout and stderr) contains <paramref name="text"/>.</summary>
    public static void WaitForLog(this MinidockCli cli, string name, string text)
    {
        var last = "";
        Eventually(() =>
        {
            var r = cli.Run("logs", name);
            last = r.Describe();
            return r.Stdout.Contains(text, StringComparison.Ordinal) || r.Stderr.Contains(text, StringComparison.Ordinal);
        }, $"the log of {name} shows '{text}'", () => last);
    }

    /// <summary>Waits until <c>.State.Status</c> is <paramref name="status"/>.</summary>
    public static void WaitForStatus(this MinidockCli cli, string name, string status)
    {
        var last = "";
        Eventually(() => (last = cli.InspectFormat(name, "{{.State.Status}}")) == status, $"{name} is {status}", () => "last status: " + last);
    }

    /// <summary>The environment a shell command needs to drive the same MiniDock root as <paramref name="cli"/>.</summary>
    public static Dictionary<string, string> ShellEnv(this MinidockCli cli)
    {
        var env = new Dictionary<string, string>
        {
            ["MINIDOCK_ROOT"] = cli.Root,
            ["NO_PROXY"] = "127.0.0.1,localhost",
            ["no_proxy"] = "127.0.0.1,localhost",
            ["MINIDOCK"] = MinidockCli.Binary,
        };
        foreach (var (k, v) in cli.Env)
        {
            env[k] = v;
        }

        return env;
    }

    /// <summary>Lines of output, without empty ones.</summary>
    public static string[] Lines(this string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
