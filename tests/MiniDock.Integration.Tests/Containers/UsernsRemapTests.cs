using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// <c>run --userns-remap 100000:65536</c>: root inside is host uid 100000 (https://docs.docker.com/engine/security/userns-remap/),
/// the shared root-owned layers show as root through idmapped mounts, what the container writes lands on disk as 100000,
/// and <c>rm -f</c> leaves no mount behind.
/// </summary>
public sealed class UsernsRemapTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const string Remap = "100000:65536";
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    private static string Owner(string lsLine) => lsLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2];

    [Fact]
    public void Root_inside_owns_the_image_files_and_what_it_creates()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "--userns-remap", Remap, image, "sh", "-c",
            "id -u; cat /proc/self/uid_map; ls -ln /etc/passwd; touch /created; ls -ln /created; echo extra >> /etc/passwd && tail -n 1 /etc/passwd; ls -ln /etc/passwd");
        var lines = r.Stdout.Lines();
        Assert.True(lines.Length == 6, r.Describe());
        Assert.Equal("0", lines[0]);
        Assert.Equal(["0", "100000", "65536"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("0", Owner(lines[2]));
        Assert.Equal("0", Owner(lines[3]));
        Assert.Equal("extra", lines[4]); // copy-up of a root-owned image file
        Assert.Equal("0", Owner(lines[5]));
        Assert.Empty(MountsUnder(_cli.Dir));
    }

    [Fact]
    public void From_the_host_the_process_and_its_files_are_the_remapped_ids_and_rm_leaves_no_mount()
    {
        var image = _cli.Pulled(sandbox);
        var id = _cli.RunDetached("--name", "remapped", "--userns-remap", Remap, image, "sh", "-c", "touch /created; echo ready; sleep 1000");
        _cli.WaitForLog("remapped", "ready");
        var pid = _cli.InspectFormat("remapped", "{{.State.Pid}}");
        var uidLine = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        Assert.Equal("100000", uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);

        var created = Path.Combine(LeakCheck.ContainerDir(_cli, id), "upper", "created");
        Assert.True(File.Exists(created), created);
        Assert.Equal("100000", StatUid(created));
        Assert.Equal("0", StatUid(Path.Combine(LeakCheck.ContainerDir(_cli, id), "..", "..", "layers")));

        Assert.Equal("0\n", _cli.Ok("exec", "remapped", "id", "-u").Stdout);
        Assert.Equal("0", Owner(_cli.Ok("exec", "remapped", "ls", "-ln", "/etc/passwd").Stdout.Trim()));
        Assert.Equal(Remap, _cli.InspectFormat("remapped", "{{.HostConfig.UsernsRemap}}"));

        _cli.Ok("rm", "-f", "remapped");
        Assert.Empty(MountsUnder(_cli.Dir));
        Assert.False(Directory.Exists(LeakCheck.ContainerDir(_cli, id)));
    }

    [Fact]
    public void A_new_named_volume_belongs_to_the_remapped_root()
    {
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "--userns-remap", Remap, "-v", "remapvol:/data", image, "sh", "-c", "touch /data/x && ls -lnd /data /data/x");
        Assert.All(r.Stdout.Lines(), l => Assert.Equal("0", Owner(l)));
        Assert.Equal("100000", StatUid(Path.Combine(_cli.DataDir, "volumes", "remapvol", "_data", "x")));
    }

    [Fact]
    public void A_user_outside_the_range_and_a_bad_spec_are_refused_and_no_flag_changes_nothing()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Contains("outside the --userns-remap range", _cli.Fails125("run", "--rm", "--userns-remap", "100000:1000", "-u", "5000", image, "true"), StringComparison.Ordinal);
        Assert.Contains("--userns-remap", _cli.Fails125("run", "--rm", "--userns-remap", "nosuchuser-xyz", image, "true"), StringComparison.Ordinal);
        var r = _cli.Ok("run", "--rm", image, "sh", "-c", "cat /proc/self/uid_map; ls -ln /etc/passwd");
        var lines = r.Stdout.Lines();
        Assert.Equal(["0", "0", "4294967295"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("0", Owner(lines[1]));
        Assert.Empty(MountsUnder(_cli.Dir));
    }

    private static string StatUid(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return text;
    }

    private static List<string> MountsUnder(string dir)
    {
        var prefix = Path.GetFullPath(dir).TrimEnd('/') + "/";
        return [.. File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(p => p.StartsWith(prefix, StringComparison.Ordinal))];
    }
}
