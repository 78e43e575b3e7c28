using MiniDock.Runtime.Security;

namespace MiniDock.Runtime.Spec;

/// <summary>
/// Checks a config.json before anything is created, so a bad bundle fails `create` with one clear
/// line and leaves nothing behind. What the engine cannot honour yet is refused, never ignored.
/// </summary>
public static class SpecValidator
{
    /// <param name="spec">The parsed config.json.</param>
    /// <param name="bundle">The bundle directory root.path is relative to.</param>
    /// <param name="compileSeccomp">False where the caller compiles linux.seccomp itself later (create does it while the init boots).</param>
    public static void Validate(RuntimeSpec spec, string bundle, bool compileSeccomp = true)
    {
        if (string.IsNullOrEmpty(spec.OciVersion) || !spec.OciVersion.StartsWith("1.", StringComparison.Ordinal))
        {
            throw new RuntimeError($"unsupported ociVersion \"{spec.OciVersion}\" (want 1.x)");
        }

        var p = spec.Process ?? throw new RuntimeError("config.json has no process");
        if (p.Args is not { Count: > 0 })
        {
            throw new RuntimeError("process.args must not be empty");
        }

        if (!p.Cwd.StartsWith('/'))
        {
            throw new RuntimeError($"process.cwd {p.Cwd} must be an absolute path");
        }

        if (p.ConsoleSize is not null && !p.Terminal)
        {
            throw new RuntimeError("process.consoleSize is set but process.terminal is false");
        }

        Capabilities.Parse(p.Capabilities, 63);
        Rlimits.Parse(p.Rlimits);

        if (spec.Root is null || string.IsNullOrEmpty(spec.Root.Path))
        {
            throw new RuntimeError("config.json has no root.path");
        }

        var rootfs = Path.GetFullPath(spec.Root.Path, bundle);
        if (!Directory.Exists(rootfs))
        {
            throw new RuntimeError($"rootfs {rootfs} does not exist");
        }

        var linux = spec.Linux ?? throw new RuntimeError("config.json has no linux section");
        var ns = Namespaces.Parse(linux.Namespaces);
        if (!string.IsNullOrEmpty(spec.Hostname) && !ns.Has("uts"))
        {
            throw new RuntimeError("hostname is set but the container has no uts namespace: it would rename the host");
        }

        if (compileSeccomp && linux.Seccomp is { } seccomp)
        {
            Security.Seccomp.SeccompFilter.Compile(seccomp);
        }

        UserNamespace.Validate(linux, ns, p);

        foreach (var m in spec.Mounts ?? [])
        {
            if (string.IsNullOrEmpty(m.Destination))
            {
                throw new RuntimeError("a mount has no destination");
            }
        }

        if (!string.IsNullOrEmpty(p.ApparmorProfile))
        {
            Console.Error.WriteLine($"warning: apparmorProfile {p.ApparmorProfile} ignored: no AppArmor support");
        }

        if (!string.IsNullOrEmpty(p.SelinuxLabel))
        {
            Console.Error.WriteLine($"warning: selinuxLabel {p.SelinuxLabel} ignored: no SELinux support");
        }
    }
}
