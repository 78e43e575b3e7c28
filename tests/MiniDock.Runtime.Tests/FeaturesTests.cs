using System.Text.Json;

namespace MiniDock.Runtime.Tests;

/// <summary>
/// <c>features</c> as the runtime-spec features document says (features.md): clients (containerd, podman) read it to
/// learn what they may ask for.
/// </summary>
public sealed class FeaturesTests
{
    private static JsonElement Doc() => JsonDocument.Parse(Features.Json()).RootElement.Clone();

    private static string[] Strings(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetString()!)];

    [Fact]
    public void The_versions_hooks_and_mount_options_are_there()
    {
        var d = Doc();
        Assert.Equal("1.0.0", d.GetProperty("ociVersionMin").GetString());
        Assert.StartsWith("1.", d.GetProperty("ociVersionMax").GetString(), StringComparison.Ordinal);
        Assert.Equal(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"], Strings(d.GetProperty("hooks")));
        var options = Strings(d.GetProperty("mountOptions"));
        foreach (var o in new[] { "ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate", "rslave", "tmpcopyup" })
        {
            Assert.Contains(o, options);
        }
    }

    [Fact]
    public void Linux_lists_every_namespace_the_engine_makes_and_every_capability()
    {
        var linux = Doc().GetProperty("linux");
        Assert.Equal(["cgroup", "ipc", "mount", "network", "pid", "user", "uts"], Strings(linux.GetProperty("namespaces")));
        var caps = Strings(linux.GetProperty("capabilities"));
        Assert.Contains("CAP_SYS_ADMIN", caps);
        Assert.Contains("CAP_CHOWN", caps);
        Assert.All(caps, c => Assert.StartsWith("CAP_", c, StringComparison.Ordinal));
        var cg = linux.GetProperty("cgroup");
        Assert.True(cg.GetProperty("v1").GetBoolean());
        Assert.True(cg.GetProperty("v2").GetBoolean());
        Assert.False(cg.GetProperty("systemd").GetBoolean());
    }

    [Fact]
    public void Seccomp_says_what_the_bpf_compiler_takes()
    {
        var s = Doc().GetProperty("linux").GetProperty("seccomp");
        Assert.True(s.GetProperty("enabled").GetBoolean());
        Assert.Contains("SCMP_ACT_ERRNO", Strings(s.GetProperty("actions")));
        Assert.DoesNotContain("SCMP_ACT_NOTIFY", Strings(s.GetProperty("actions")));
        Assert.Contains("SCMP_CMP_MASKED_EQ", Strings(s.GetProperty("operators")));
        Assert.Equal(["SCMP_ARCH_X86_64"], Strings(s.GetProperty("archs")));
        Assert.Equal(Strings(s.GetProperty("knownFlags")), Strings(s.GetProperty("supportedFlags")));
        foreach (var off in new[] { "apparmor", "selinux", "intelRdt" })
        {
            Assert.False(Doc().GetProperty("linux").GetProperty(off).GetProperty("enabled").GetBoolean());
        }
    }
}
