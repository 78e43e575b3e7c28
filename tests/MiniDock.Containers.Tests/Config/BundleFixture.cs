using MiniDock.Containers.Config;
using MiniDock.Images;

namespace MiniDock.Containers.Tests.Config;

/// <summary>A temp dir holding a rootfs, a bundle dir and fake host files; removed on Dispose.</summary>
public sealed class BundleFixture : IDisposable
{
    public const string Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public BundleFixture()
    {
        Dir = Directory.CreateTempSubdirectory("minidock-config-").FullName;
        Root = Directory.CreateDirectory(Path.Combine(Dir, "rootfs")).FullName;
        Bundle = Path.Combine(Dir, "bundle");
        Outside = Directory.CreateDirectory(Path.Combine(Dir, "outside")).FullName;
        HostResolv = Path.Combine(Dir, "host-resolv.conf");
        HostHosts = Path.Combine(Dir, "host-hosts");
        File.WriteAllText(HostResolv, "search example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\noptions ndots:2\n");
        File.WriteAllText(HostHosts, "127.0.0.1 localhost\n10.1.2.3 myhost\n");
        Init = Path.Combine(Dir, "tini-static");
        File.WriteAllText(Init, "#!fake tini");
    }

    public string Dir { get; }

    public string Root { get; }

    public string Bundle { get; }

    /// <summary>A host directory outside the rootfs, for escape attempts.</summary>
    public string Outside { get; }

    public string HostResolv { get; }

    public string HostHosts { get; }

    public string Init { get; }

    public Dictionary<string, string?> CallerEnv { get; } = new() { ["FROM_CALLER"] = "caller-value" };

    public List<string> VolumeCalls { get; } = [];

    /// <summary>Writes a file inside the rootfs (path relative to it).</summary>
    public void WriteRoot(string rel, string text)
    {
        var p = Path.Combine(Root, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text);
    }

    public void StandardEtc()
    {
        WriteRoot("etc/passwd", """
            root:x:0:0:root:/root:/bin/sh
            daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
            alice:x:1000:1000:Alice:/home/alice:/bin/sh
            bob:x:1001:100::/home/bob:/bin/sh
            nohome:x:1002:1002:::/bin/sh
            """);
        WriteRoot("etc/group", """
            root:x:0:root
            daemon:x:1:
            wheel:x:10:root,alice
            users:x:100:
            alice:x:1000:
            docker:x:999:alice,bob
            """);
    }

    public BundleInputs Inputs(ImageConfig? image = null, RunOptions? options = null, IHostLimits? limits = null, bool canRaise = false, bool? cgroupV2 = false,
        IReadOnlyDictionary<string, string>? existing = null, bool withVolumes = true)
        => new()
        {
            Image = image ?? new ImageConfig { Os = "linux", Architecture = "amd64", Cmd = ["sh"] },
            Options = options ?? new RunOptions(),
            ContainerId = Id,
            RootPath = Root,
            BundleDir = Bundle,
            NamedVolume = withVolumes ? Volume : null,
            InitBinary = Init,
            HostLimits = limits ?? new FakeLimits(),
            CallerEnv = CallerEnv,
            HostResolvConf = HostResolv,
            HostHostsFile = HostHosts,
            HostHostname = "the-host",
            CgroupV2Only = cgroupV2,
            CanRaiseHardLimits = canRaise,
            CpuCount = 4,
            ExistingAnonymousVolumes = existing,
        };

    public BundleResult Build(ImageConfig? image = null, RunOptions? options = null) => BundleBuilder.Build(Inputs(image, options));

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    private string Volume(string name)
    {
        VolumeCalls.Add(name);
        return Directory.CreateDirectory(Path.Combine(Dir, "volumes", name, "_data")).FullName;
    }
}

/// <summary>An <see cref="IHostLimits"/> with the limits a test chooses (unknown resources: null).</summary>
public sealed class FakeLimits(params (int Resource, ulong Soft, ulong Hard)[] limits) : IHostLimits
{
    public (ulong Soft, ulong Hard)? Get(int resource)
    {
        foreach (var l in limits)
        {
            if (l.Resource == resource)
            {
                return (l.Soft, l.Hard);
            }
        }

        return null;
    }
}
