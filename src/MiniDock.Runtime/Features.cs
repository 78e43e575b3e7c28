using System.Text.Json.Nodes;
using MiniDock.Runtime.Mounts;
using MiniDock.Runtime.Security;

namespace MiniDock.Runtime;

/// <summary>
/// <c>features</c>: what this engine supports, in the runtime-spec features document format
/// (features.md), so clients (containerd, podman) can adapt instead of guessing.
/// </summary>
public static class Features
{
    public static string Json()
    {
        JsonArray Arr(IEnumerable<string> items) => new(items.Select(i => (JsonNode)JsonValue.Create(i)).ToArray());
        var doc = new JsonObject
        {
            ["ociVersionMin"] = "1.0.0",
            ["ociVersionMax"] = "1.2.0",
            ["hooks"] = Arr(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]),
            ["mountOptions"] = Arr(MountOptionNames),
            ["linux"] = new JsonObject
            {
                ["namespaces"] = Arr(["cgroup", "ipc", "mount", "network", "pid", "uts"]),
                ["capabilities"] = Arr(Capabilities.Names),
                ["cgroup"] = new JsonObject { ["v1"] = true, ["v2"] = true, ["systemd"] = false, ["systemdUser"] = false, ["rdma"] = false },
                ["seccomp"] = new JsonObject { ["enabled"] = false },
                ["apparmor"] = new JsonObject { ["enabled"] = false },
                ["selinux"] = new JsonObject { ["enabled"] = false },
                ["intelRdt"] = new JsonObject { ["enabled"] = false },
                ["mountExtensions"] = new JsonObject { ["idmap"] = new JsonObject { ["enabled"] = false } },
            },
            ["annotations"] = new JsonObject { ["io.github.minidock.engine"] = "minidock" },
        };
        return doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine() });
    }

    private static readonly string[] MountOptionNames =
    [
        "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime", "mand", "noatime",
        "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow",
        "private", "rbind", "relatime", "remount", "ro", "rprivate", "rshared", "rslave", "runbindable", "rw",
        "shared", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable",
    ];
}
