using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MiniDock.Containers.Config;

/// <summary>Which seccomp profile a container asked for.</summary>
internal enum SeccompMode
{
    /// <summary>No <c>seccomp=</c> option: Docker's default profile, or none with <c>--privileged</c>.</summary>
    Default,

    /// <summary><c>seccomp=builtin</c>: Docker's default profile, even with <c>--privileged</c>.</summary>
    Builtin,

    /// <summary><c>seccomp=unconfined</c>: no filter.</summary>
    Unconfined,

    /// <summary>A profile of the user's (<see cref="SecurityOptions.SeccompProfile"/> holds its JSON).</summary>
    Custom,
}

/// <summary>The <c>--security-opt</c> list, understood.</summary>
internal sealed record SecurityOptions(bool NoNewPrivileges, SeccompMode Seccomp, string? SeccompProfile, bool SystemPathsUnconfined);

/// <summary>
/// <c>--security-opt</c> as Docker reads it (https://docs.docker.com/reference/cli/docker/container/run/#security-opt,
/// moby's daemon parseSecurityOpt): <c>KEY=VALUE</c> or the older <c>KEY:VALUE</c>, whichever separator comes first.
/// <list type="bullet">
/// <item><c>no-new-privileges[=true|false]</c>: process.noNewPrivileges.</item>
/// <item><c>seccomp=unconfined</c> (no filter), <c>seccomp=builtin</c> (Docker's default profile), or
/// <c>seccomp=PROFILE.json</c>: a profile file, read by the CLI and kept inline as <c>seccomp={…}</c> as Docker's CLI
/// does (<see cref="Inline"/>), so that <c>start</c> and <c>restart</c> apply the profile the container was created with.</item>
/// <item><c>systempaths=unconfined</c>: no masked or read-only /proc and /sys paths.</item>
/// <item><c>apparmor=unconfined</c> and <c>label=disable</c> ask for what MiniDock already does and are accepted; any
/// other <c>apparmor</c> or <c>label</c> value is refused: MiniDock loads no AppArmor profile and sets no SELinux label,
/// and silently running a container without the confinement it asked for would be worse than failing.</item>
/// </list>
/// Anything else is an error, before anything is created.
/// </summary>
public static class SecurityOpts
{
    /// <summary>
    /// The CLI's half (Docker's cli/command/container/opts.go parseSecurityOpts): each <c>seccomp=FILE</c> becomes
    /// <c>seccomp=</c> and the file's compacted JSON. A missing file or bad JSON is one clear error.
    /// </summary>
    public static List<string> Inline(IEnumerable<string> opts)
    {
        var result = new List<string>();
        foreach (var opt in opts)
        {
            var (key, value) = Split(opt);
            if (key != "seccomp" || value is null or "" or "unconfined" or "builtin" || value.StartsWith('{'))
            {
                result.Add(opt);
                continue;
            }

            string text;
            try
            {
                text = File.ReadAllText(value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ContainerException($"opening seccomp profile ({value}) failed: {e.Message}");
            }

            result.Add("seccomp=" + Compact(text, value));
        }

        return result;
    }

    /// <summary>Parses and checks every option (a profile's JSON included); see the class summary.</summary>
    internal static SecurityOptions Parse(IReadOnlyList<string> opts)
    {
        var noNewPrivs = false;
        var systemPaths = false;
        var mode = SeccompMode.Default;
        string? profile = null;
        foreach (var opt in opts)
        {
            var (key, value) = Split(opt);
            if (value is null && key != "no-new-privileges")
            {
                throw new ContainerException($"invalid --security-opt: \"{opt}\": want KEY=VALUE");
            }

            switch (key)
            {
                case "no-new-privileges":
                    noNewPrivs = value is null || (Bool(value) ?? throw new ContainerException($"--security-opt {opt}: want no-new-privileges[=true|false]"));
                    break;
                case "seccomp":
                    (mode, profile) = value switch
                    {
                        "unconfined" => (SeccompMode.Unconfined, null),
                        "builtin" => (SeccompMode.Builtin, null),
                        "" => throw new ContainerException($"invalid --security-opt: \"{opt}\": want seccomp=unconfined, builtin or a profile file"),
                        _ when value!.StartsWith('{') => (SeccompMode.Custom, value),
                        _ => (SeccompMode.Custom, Inline([opt])[0]["seccomp=".Length..]),
                    };
                    break;
                case "systempaths":
                    systemPaths = value == "unconfined" ? true : throw new ContainerException($"--security-opt {opt}: want systempaths=unconfined");
                    break;
                case "apparmor":
                    if (value != "unconfined")
                    {
                        throw new ContainerException($"--security-opt {opt}: not supported: this host has no AppArmor policy for MiniDock (only apparmor=unconfined)");
                    }

                    break;
                case "label":
                    if (value != "disable")
                    {
                        throw new ContainerException($"--security-opt {opt}: not supported: this host has no SELinux policy for MiniDock (only label=disable)");
                    }

                    break;
                default:
                    throw new ContainerException($"invalid --security-opt: \"{opt}\" (want no-new-privileges, seccomp=, systempaths=unconfined, apparmor=unconfined or label=disable)");
            }
        }

        return new SecurityOptions(noNewPrivs, mode, profile, systemPaths);
    }

    /// <summary>
    /// Everything <c>run</c>/<c>create</c> could refuse about privileges, checked before anything is created: the
    /// capability names, the options, and a profile of the user's, resolved against the final capabilities and compiled.
    /// </summary>
    public static void Check(RunOptions o)
    {
        var caps = CapabilityFlags.Resolve(o.CapAdd, o.CapDrop, o.Privileged);
        var security = Parse(o.SecurityOpts);
        if (security.Seccomp == SeccompMode.Custom)
        {
            Seccomp.ContainerSeccomp.For(security, caps, o.Privileged);
        }
    }

    /// <summary>True for <c>no-new-privileges</c>, <c>no-new-privileges=true</c> or <c>:true</c>.</summary>
    public static bool NoNewPrivileges(IReadOnlyList<string> opts) => Parse(opts).NoNewPrivileges;

    /// <summary>Key and value at the first '=' or ':'; a value of null when there is neither.</summary>
    private static (string Key, string? Value) Split(string opt)
        => opt.IndexOfAny(['=', ':']) is var i and > 0 ? (opt[..i], opt[(i + 1)..]) : (opt, null);

    /// <summary>Go's strconv.ParseBool, which Docker uses here.</summary>
    private static bool? Bool(string s) => s switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => null,
    };

    private static string Compact(string json, string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var buffer = new ArrayBufferWriter<byte>(Math.Max(json.Length, 256));
            using (var w = new Utf8JsonWriter(buffer))
            {
                doc.WriteTo(w);
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException e)
        {
            throw new ContainerException($"compacting json for seccomp profile ({path}) failed: {e.Message}");
        }
    }
}
