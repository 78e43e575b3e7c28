using System.Text.Json.Nodes;

namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// A loopback registry holding <c>sandbox:latest</c>, a container-ready image made without MiniDock (umoci):
/// layer 1 = busybox-static with every applet as a symlink, /etc/passwd and /etc/group (root, nobody, dev 1000:1000),
/// /tmp 1777, /home/dev owned by dev; layer 2 = /etc/motd. Config: Cmd ["sh"], Env PATH=/bin, a label, StopSignal SIGTERM.
/// </summary>
public sealed class SandboxFixture : IDisposable
{
    public const string Motd = "sandbox layer 2\n";

    public const string Label = "org.opencontainers.image.title";

    private static readonly Lazy<string> SharedLayout = new(BuildLayout, LazyThreadSafetyMode.ExecutionAndPublication);

    public SandboxFixture()
    {
        Registry = new RegistryFixture(authYaml: null, pushImages: false);
        try
        {
            Registry.SkopeoOk("copy", "-q", "--dest-tls-verify=false", $"oci:{SharedLayout.Value}:latest", Registry.DockerRef("sandbox:latest"));
        }
        catch
        {
            Registry.Dispose();
            throw;
        }
    }

    public RegistryFixture Registry { get; }

    /// <summary>The reference to pull or run.</summary>
    public string Image => Registry.Reference("sandbox:latest");

    public void Dispose() => Registry.Dispose();

    private static string BuildLayout()
    {
        var root = RegistryImages.ProcessTempDir("minidock-sandbox-layout-");

        var layout = Path.Combine(root, "layout");
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("busybox-static not installed (/bin/busybox)");
        Umoci(root, "init", "--layout", layout);
        Umoci(root, "new", "--image", $"{layout}:latest");
        var b1 = Path.Combine(root, "b1");
        Umoci(root, "unpack", "--image", $"{layout}:latest", b1);
        var rootfs = Path.Combine(b1, "rootfs");
        foreach (var d in new[] { "bin", "etc", "tmp", "home/dev", "root" })
        {
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        }

        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), (UnixFileMode)Convert.ToInt32("1777", 8));
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        var applets = ProcessRunner.Run(busybox, ["--list"], TimeSpan.FromSeconds(10)).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var applet in applets.Where(a => a != "busybox"))
        {
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }

        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ndev:x:1000:1000:dev:/home/dev:/bin/sh\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\ndev:x:1000:\nwheel:x:10:dev\n");
        ProcessRunner.Run("chown", ["1000:1000", Path.Combine(rootfs, "home", "dev")], TimeSpan.FromSeconds(10));
        Umoci(root, "repack", "--image", $"{layout}:latest", b1);
        var b2 = Path.Combine(root, "b2");
        Umoci(root, "unpack", "--image", $"{layout}:latest", b2);
        File.WriteAllText(Path.Combine(b2, "rootfs", "etc", "motd"), Motd);
        Umoci(root, "repack", "--image", $"{layout}:latest", b2);
        Umoci(root, "config", "--image", $"{layout}:latest", "--config.cmd", "sh", "--config.env", "PATH=/bin", "--config.workingdir", "/",
            "--config.label", $"{Label}=minidock sandbox", "--config.stopsignal", "SIGTERM");
        Umoci(root, "gc", "--layout", layout);
        return layout;
    }

    private static void Umoci(string ioDir, params string[] args) => RegistryImages.Umoci(ioDir, args);
}
