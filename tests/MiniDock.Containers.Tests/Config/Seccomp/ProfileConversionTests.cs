using MiniDock.Containers.Config;
using MiniDock.Containers.Config.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config.Seccomp;

/// <summary>A Docker-format profile file becomes the container's OCI linux.seccomp (moby's setupSeccomp rules).</summary>
public sealed class ProfileConversionTests
{
    private static readonly string[] DefaultCaps = ["CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"];

    private static SeccompSpec Convert(string json, string[]? caps = null, string arch = "amd64", KernelVersion? kernel = null)
        => ProfileResolver.Resolve(ProfileParser.Parse(json), caps ?? DefaultCaps, arch, kernel ?? new KernelVersion(6, 8))!;

    private static List<string> Names(SeccompSpec s) => [.. s.Syscalls!.SelectMany(c => c.Names)];

    [Fact]
    public void Name_and_names_both_become_names_with_action_errno_and_args()
    {
        var s = Convert("""
            {
              "defaultAction": "SCMP_ACT_ALLOW",
              "syscalls": [
                { "name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13 },
                { "names": ["chmod", "fchmod"], "action": "SCMP_ACT_ERRNO",
                  "args": [ { "index": 1, "value": 2048, "valueTwo": 2048, "op": "SCMP_CMP_MASKED_EQ" } ] }
              ]
            }
            """);
        Assert.Equal("SCMP_ACT_ALLOW", s.DefaultAction);
        Assert.Null(s.DefaultErrnoRet);
        Assert.Equal(["mkdir"], s.Syscalls![0].Names);
        Assert.Equal(13u, s.Syscalls[0].ErrnoRet);
        Assert.Null(s.Syscalls[0].Args);
        Assert.Equal(["chmod", "fchmod"], s.Syscalls[1].Names);
        var arg = Assert.Single(s.Syscalls[1].Args!);
        Assert.Equal((1u, 2048ul, 2048ul, "SCMP_CMP_MASKED_EQ"), (arg.Index, arg.Value, arg.ValueTwo, arg.Op));
    }

    [Fact]
    public void Includes_and_excludes_by_capability()
    {
        const string json = """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [
                { "names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["both"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN", "CAP_KILL"] } },
                { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
                { "names": ["kill"], "action": "SCMP_ACT_ALLOW", "excludes": { "caps": ["CAP_SYS_NICE", "CAP_KILL"] } }
              ]
            }
            """;
        Assert.Equal(["clone"], Names(Convert(json)));
        Assert.Equal(["mount", "both"], Names(Convert(json, ["CAP_SYS_ADMIN", "CAP_KILL"])));
        Assert.Equal(["mount", "kill"], Names(Convert(json, ["CAP_SYS_ADMIN"])));
    }

    [Fact]
    public void Includes_and_excludes_by_architecture_and_the_arch_map()
    {
        const string json = """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "archMap": [
                { "architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"] },
                { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"] }
              ],
              "syscalls": [
                { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64", "x32"] } },
                { "names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
                { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["s390x"] } }
              ]
            }
            """;
        var amd64 = Convert(json);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], amd64.Architectures);
        Assert.Equal(["arch_prctl", "clone"], Names(amd64));

        var arm64 = Convert(json, arch: "arm64");
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], arm64.Architectures);
        Assert.Equal(["set_tls", "clone"], Names(arm64));

        Assert.Equal(["SCMP_ARCH_S390X"], Convert("""{ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_S390X"] }""").Architectures);
        Assert.Empty(Names(Convert(json, arch: "s390x")));
    }

    [Fact]
    public void MinKernel_includes_from_that_version_and_excludes_from_it()
    {
        const string json = """
            {
              "defaultAction": "SCMP_ACT_ERRNO",
              "syscalls": [
                { "names": ["new"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "5.10" } },
                { "names": ["old"], "action": "SCMP_ACT_ALLOW", "excludes": { "minKernel": "5.10" } }
              ]
            }
            """;
        Assert.Equal(["old"], Names(Convert(json, kernel: new KernelVersion(5, 4))));
        Assert.Equal(["new"], Names(Convert(json, kernel: new KernelVersion(5, 10))));
        Assert.Equal(["new"], Names(Convert(json, kernel: new KernelVersion(6, 1))));
    }

    [Fact]
    public void Kernel_versions_parse_as_Docker_compares_them()
    {
        Assert.Equal(new KernelVersion(5, 15), KernelVersion.Parse("5.15.0-91-generic", release: true));
        Assert.Equal(new KernelVersion(3, 12), KernelVersion.Parse("3.12-1-amd64", release: true));
        Assert.Equal(new KernelVersion(4, 8), KernelVersion.Parse("4.8"));
        Assert.Null(KernelVersion.Parse("4.8.1"));
        Assert.Null(KernelVersion.Parse("0.0"));
        Assert.Null(KernelVersion.Parse("four"));
        Assert.True(new KernelVersion(5, 10) > new KernelVersion(4, 19));
    }

    [Fact]
    public void An_OCI_linux_seccomp_object_is_accepted_as_is()
    {
        var s = Convert("""
            {
              "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
              "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
              "syscalls": [ { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" } ]
            }
            """);
        Assert.Equal(38u, s.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64"], s.Architectures);
        Assert.Equal(["SECCOMP_FILTER_FLAG_LOG"], s.Flags);
        Assert.Equal(["read", "write"], Names(s));
    }

    [Fact]
    public void An_empty_profile_means_unconfined_as_in_Docker()
        => Assert.Null(ProfileResolver.Resolve(ProfileParser.Parse("{}"), DefaultCaps, "amd64", null));

    [Theory]
    [InlineData("{", "invalid JSON")]
    [InlineData("[]", "JSON object")]
    [InlineData("""{ "defaultAction": 1 }""", "defaultAction")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": {} }""", "syscalls")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": ["read"] }""", "syscalls")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [ { "architecture": "SCMP_ARCH_X86_64" } ] }""", "archMap")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO" } ] }""", "'name' and 'names'")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["b"], "action": "SCMP_ACT_ERRNO", "errnoRet": -1 } ] }""", "errnoRet")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [ { "names": ["b"], "action": "SCMP_ACT_ERRNO", "includes": { "minKernel": "5" } } ] }""", "kernel version")]
    [InlineData("""{ "defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock" }""", "listenerPath")]
    public void Bad_profiles_are_one_clear_error(string json, string expected)
    {
        var e = Assert.Throws<ContainerException>(() => ProfileParser.Parse(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(125, e.ExitCode);
    }
}
