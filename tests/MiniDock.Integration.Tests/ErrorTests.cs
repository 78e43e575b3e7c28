using System.Text.Json;
using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests;

/// <summary>What the runtime refuses, and how it says so (exit code 1, message on stderr, --log json).</summary>
public sealed class ErrorTests(ITestOutputHelper output) : IDisposable
{
    private readonly RuntimeFixture _rt = new(output);

    public void Dispose() => _rt.Dispose();

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc 1.1 silently kills and deletes a created container here.
    public void Delete_OfACreatedContainer_FailsAndKeepsIt()
    {
        var b = _rt.NewBundle("delcr").Args("sleep", "30");
        _rt.Create(b);
        var r = _rt.Invoke("delete", b.Id);
        Assert.True(r.ExitCode == 1, "delete of a created (not stopped) container must fail with 1: " + r.Describe());
        Assert.NotEmpty(r.Stderr.Trim());
        Assert.Equal("created", _rt.TryStatus(b.Id));
    }

    [Fact]
    public void Delete_OfARunningContainer_FailsWithoutForce()
    {
        var b = _rt.NewBundle("delrun").Args("sleep", "30");
        _rt.CreateAndStart(b);
        var r = _rt.Invoke("delete", b.Id);
        Assert.True(r.ExitCode == 1, "delete of a running container must fail with 1: " + r.Describe());
        Assert.Equal("running", _rt.TryStatus(b.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeleteForce_KillsAndRemoves(bool started)
    {
        var b = _rt.NewBundle("delf").Args("sleep", "30");
        _rt.Create(b);
        if (started)
        {
            _rt.InvokeOk("start", b.Id);
        }

        var pid = _rt.Pid(b.Id);
        _rt.InvokeOk("delete", "--force", b.Id);
        Assert.Null(_rt.TryStatus(b.Id));
        RuntimeFixture.Eventually(() => RuntimeFixture.ProcessGone(pid), TimeSpan.FromSeconds(5), () => $"init {pid} to be gone");
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc only warns and ignores unknown capabilities.
    public void UnknownCapability_FailsCreate()
    {
        var b = _rt.NewBundle("badcap").Args("true");
        b.Process["capabilities"]!["bounding"]!.AsArray().Add("CAP_DOES_NOT_EXIST");
        AssertCreateFails(b, "CAP_DOES_NOT_EXIST");
    }

    [Fact]
    [Trait(Traits.Runtime, Traits.MiniDock)] // runc has seccomp notify; MiniDock refuses it (no agent support).
    public void SeccompNotify_IsRefusedAsNotSupported()
    {
        var b = _rt.NewBundle("seccomp").Args("true");
        b.Linux["seccomp"] = new JsonObject
        {
            ["defaultAction"] = "SCMP_ACT_ALLOW",
            ["syscalls"] = new JsonArray(new JsonObject { ["names"] = new JsonArray("mkdir"), ["action"] = "SCMP_ACT_NOTIFY" }),
        };
        var stderr = AssertCreateFails(b, "seccomp");
        Assert.Contains("not supported", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void UserNamespace_WithoutMappings_IsRefusedClearly()
    {
        var b = _rt.NewBundle("userns").Args("true").AddNamespace("user");
        var stderr = AssertCreateFails(b, "user");
        Assert.Contains("uidMappings", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Mappings_WithoutAUserNamespace_AreRefused()
    {
        var b = _rt.NewBundle("nouserns").Args("true");
        var mapping = new JsonObject { ["containerID"] = 0, ["hostID"] = 100000, ["size"] = 65536 };
        b.Linux["uidMappings"] = new JsonArray(mapping.DeepClone());
        b.Linux["gidMappings"] = new JsonArray(mapping.DeepClone());
        var stderr = AssertCreateFails(b, "uidMappings");
        Assert.Contains("no user namespace", stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("with space")]
    public void InvalidContainerIds_AreRefused(string id)
    {
        var b = _rt.NewBundle("badid").Args("true");
        b.Save();
        var r = _rt.Invoke("create", "--bundle", b.Dir, id);
        Assert.True(r.ExitCode != 0, $"id '{id}' must be refused: " + r.Describe());
        Assert.NotEmpty(r.Stderr.Trim());
        Assert.False(File.Exists(Path.Combine(_rt.TempDir, "x")) || Directory.Exists(Path.Combine(_rt.TempDir, "x")), "state escaped --root");
        var listed = _rt.InvokeOk("list", "-q").Stdout.Trim();
        Assert.Equal("", listed);
    }

    [Fact]
    public void State_OfAnUnknownId_Exits1_WithTheMessageOnStderr()
    {
        var r = _rt.Invoke("state", "no-such-container");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.NotEmpty(r.Stderr.Trim());
    }

    [Theory]
    [InlineData("start")]
    [InlineData("kill")]
    [InlineData("delete")]
    [InlineData("exec")]
    public void Commands_OnAnUnknownId_Fail(string command)
    {
        string[] args = command == "exec" ? ["exec", "no-such-container", "true"] : [command, "no-such-container"];
        var r = _rt.Invoke(args);
        Assert.True(r.ExitCode != 0, r.Describe());
        Assert.NotEmpty(r.Stderr.Trim());
    }

    [Fact]
    public void Create_WithAnExistingId_Fails_AndLeavesTheFirstAlone()
    {
        var b = _rt.NewBundle("dup").Args("sleep", "30");
        _rt.Create(b);
        var pid = _rt.Pid(b.Id);
        var r = _rt.Invoke("create", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode != 0, "a second create with the same id must fail: " + r.Describe());
        Assert.Equal("created", _rt.TryStatus(b.Id));
        Assert.Equal(pid, _rt.Pid(b.Id));
    }

    [Fact]
    public void Create_WithAMissingBundle_Fails_AndLeavesNoState()
    {
        var id = _rt.NewId("nobundle");
        var r = _rt.Invoke("create", "--bundle", Path.Combine(_rt.TempDir, "missing"), id);
        Assert.True(r.ExitCode != 0, r.Describe());
        Assert.Null(_rt.TryStatus(id));
    }

    [Fact]
    public void Create_WithAMissingExecutable_Fails()
    {
        var b = _rt.NewBundle("noexe").Args("/no/such/binary");
        b.Save();
        var failure = _rt.Invoke("create", "--bundle", b.Dir, b.Id);
        if (failure.ExitCode == 0)
        {
            // A runtime may only find out at start (runc already checks at create); either way it must fail.
            failure = _rt.Invoke("start", b.Id);
        }

        Assert.True(failure.ExitCode != 0, "a missing executable must fail create or start: " + failure.Describe());
        Assert.Contains("/no/such/binary", failure.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void LogJson_WritesAnErrorLine()
    {
        var log = Path.Combine(_rt.TempDir, "runtime.log");
        var r = _rt.Invoke("--log", log, "--log-format", "json", "state", "no-such-container");
        Assert.Equal(1, r.ExitCode);
        Assert.True(File.Exists(log), "no log file written");
        var entries = File.ReadAllLines(log).Where(l => l.Trim().Length > 0).Select(l =>
        {
            try
            {
                return JsonNode.Parse(l)!.AsObject();
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"log line is not JSON ({e.Message}): {l}");
            }
        }).ToList();
        Assert.Contains(entries, e => (string?)e["level"] == "error" && !string.IsNullOrEmpty((string?)e["msg"]));
    }

    private string AssertCreateFails(Bundle b, string mention)
    {
        b.Save();
        var r = _rt.Invoke("create", "--bundle", b.Dir, b.Id);
        Assert.True(r.ExitCode == 1, "create must fail with exit code 1: " + r.Describe());
        Assert.Contains(mention, r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Null(_rt.TryStatus(b.Id));
        return r.Stderr;
    }
}
