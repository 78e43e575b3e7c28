using System.Text.Json;
using MiniDock.Runtime.Security;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime;

/// <summary>
/// <c>features</c>: what this engine supports, in the runtime-spec features document format
/// (features.md), so clients (containerd, podman) can adapt instead of guessing.
/// </summary>
public static class Features
{
    private static readonly string[] MountOptionNames =
    [
        "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime", "mand", "noatime",
        "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow",
        "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
        "shared", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable",
    ];

    public static string Json() => System.Text.Encoding.UTF8.GetString(StateJson.Build(w =>
    {
        w.WriteStartObject();
        w.WriteString("ociVersionMin", "1.0.0");
        w.WriteString("ociVersionMax", "1.2.0");
        Strings(w, "hooks", ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
        Strings(w, "mountOptions", MountOptionNames);
        w.WriteStartObject("linux");
        Strings(w, "namespaces", ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"]);
        Strings(w, "capabilities", Capabilities.Names);
        w.WriteStartObject("cgroup");
        w.WriteBoolean("v1", true);
        w.WriteBoolean("v2", true);
        w.WriteBoolean("systemd", false);
        w.WriteBoolean("systemdUser", false);
        w.WriteBoolean("rdma", false);
        w.WriteEndObject();
        w.WriteStartObject("seccomp");
        w.WriteBoolean("enabled", true);
        Strings(w, "actions", ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"]);
        Strings(w, "operators", ["SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"]);
        Strings(w, "archs", ["SCMP_ARCH_X86_64"]);
        // knownFlags: the flags the runtime understands; supportedFlags: those this kernel and runtime can apply.
        Strings(w, "knownFlags", ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
        Strings(w, "supportedFlags", ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
        w.WriteEndObject();
        foreach (var off in new[] { "apparmor", "selinux", "intelRdt" })
        {
            w.WriteStartObject(off);
            w.WriteBoolean("enabled", false);
            w.WriteEndObject();
        }

        w.WriteStartObject("mountExtensions");
        w.WriteStartObject("idmap");
        w.WriteBoolean("enabled", false);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("annotations");
        w.WriteString("io.github.minidock.engine", "minidock");
        w.WriteEndObject();
        w.WriteEndObject();
    }, indented: true));

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var i in items)
        {
            w.WriteStringValue(i);
        }

        w.WriteEndArray();
    }
}
