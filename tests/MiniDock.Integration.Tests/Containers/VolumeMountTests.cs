using System.Text.Json.Nodes;
using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary><c>-v</c> bind mounts (rw and ro), named and anonymous volumes, and <c>volume create/ls/inspect/rm/prune</c>.</summary>
public sealed class VolumeMountTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Bind_mount_is_read_write_both_ways()
    {
        var image = _cli.Pulled(sandbox);
        var host = Directory.CreateDirectory(Path.Combine(_cli.Dir, "rw")).FullName;
        File.WriteAllText(Path.Combine(host, "from-host"), "host data\n");
        var r = _cli.Ok("run", "--rm", "-v", $"{host}:/mnt", image, "sh", "-c", "cat /mnt/from-host; echo container data > /mnt/from-container");
        Assert.Equal("host data\n", r.Stdout);
        Assert.Equal("container data\n", File.ReadAllText(Path.Combine(host, "from-container")));
    }

    [Fact]
    public void Read_only_bind_mount_refuses_writes_but_reads()
    {
        var image = _cli.Pulled(sandbox);
        var host = Directory.CreateDirectory(Path.Combine(_cli.Dir, "ro")).FullName;
        File.WriteAllText(Path.Combine(host, "existing"), "keep me\n");
        var r = _cli.Run("run", "--rm", "-v", $"{host}:/mnt:ro", image, "sh", "-c", "cat /mnt/existing; echo x > /mnt/new; echo y > /mnt/existing");
        Assert.True(r.ExitCode != 0, r.Describe());
        Assert.Equal("keep me\n", r.Stdout);
        Assert.Contains("Read-only file system", r.Stderr);
        Assert.False(File.Exists(Path.Combine(host, "new")));
        Assert.Equal("keep me\n", File.ReadAllText(Path.Combine(host, "existing")));
    }

    [Fact]
    public void Bind_mount_of_a_single_file()
    {
        var image = _cli.Pulled(sandbox);
        var file = Path.Combine(_cli.Dir, "config.txt");
        File.WriteAllText(file, "setting=1\n");
        Assert.Equal("setting=1\n", _cli.Ok("run", "--rm", "-v", $"{file}:/etc/app.conf:ro", image, "cat", "/etc/app.conf").Stdout);
    }

    [Fact]
    public void Named_volume_persists_across_containers_and_is_listed()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--rm", "-v", "keep:/data", image, "sh", "-c", "echo persisted > /data/file");
        Assert.Equal("persisted\n", _cli.Ok("run", "--rm", "-v", "keep:/data", image, "cat", "/data/file").Stdout);
        Assert.Contains("keep", _cli.Ok("volume", "ls", "-q").Stdout.Lines());

        var inspected = Assert.Single(JsonNode.Parse(_cli.Ok("volume", "inspect", "keep").Stdout)!.AsArray())!.AsObject();
        Assert.Equal("keep", (string?)inspected["Name"]);
        Assert.Equal("local", (string?)inspected["Driver"]);
        var mountpoint = (string)inspected["Mountpoint"]!;
        Assert.Equal("persisted\n", File.ReadAllText(Path.Combine(mountpoint, "file")));
    }

    [Fact]
    public void Named_volume_is_owned_for_a_non_root_user_from_the_image_directory()
    {
        // A new volume is filled from the image's directory at its mount point: /home/dev (owned by dev) stays writable for dev.
        var image = _cli.Pulled(sandbox);
        var r = _cli.Ok("run", "--rm", "-u", "dev", "-v", "devhome:/home/dev", image, "sh", "-c", "echo mine > /home/dev/file && stat -c %u /home/dev");
        Assert.Equal("1000\n", r.Stdout);
    }

    [Fact]
    public void New_named_volume_starts_with_the_images_files_and_an_existing_one_is_left_as_it_is()
    {
        var image = _cli.Pulled(sandbox);
        Assert.Equal(SandboxFixture.Motd, _cli.Ok("run", "--rm", "-v", "etcvol:/etc", image, "sh", "-c", "cat /etc/motd; echo changed > /etc/motd").Stdout);
        Assert.Equal("changed\n", _cli.Ok("run", "--rm", "-v", "etcvol:/etc", image, "cat", "/etc/motd").Stdout);
    }

    [Fact]
    public void Anonymous_volume_is_created_listed_and_removed_by_rm_v()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--name", "anon", "-v", "/data", image, "sh", "-c", "echo x > /data/y");
        var mount = Assert.Single(_cli.InspectContainer("anon")["Mounts"]!.AsArray())!.AsObject();
        Assert.Equal("volume", (string?)mount["Type"]);
        Assert.Equal("/data", (string?)mount["Destination"]);
        var name = (string)mount["Name"]!;
        Assert.Matches("^[0-9a-f]{64}$", name);
        Assert.Contains(name, _cli.Ok("volume", "ls", "-q").Stdout.Lines());
        Assert.Equal("x\n", File.ReadAllText(Path.Combine((string)mount["Source"]!, "y")));

        _cli.Ok("rm", "-v", "anon");
        Assert.DoesNotContain(name, _cli.Ok("volume", "ls", "-q").Stdout.Lines());
    }

    [Fact]
    public void Anonymous_volume_stays_after_rm_without_v_until_pruned()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("volume", "create", "named-keeper");
        _cli.Ok("run", "--name", "anon", "-v", "/data", image, "true");
        var name = (string)_cli.InspectContainer("anon")["Mounts"]![0]!["Name"]!;
        _cli.Ok("rm", "anon");
        Assert.Contains(name, _cli.Ok("volume", "ls", "-q").Stdout.Lines());

        // prune removes unused anonymous volumes only; prune -a unused named ones too.
        var pruned = _cli.Ok("volume", "prune", "-f").Stdout.Lines();
        Assert.Contains(name, pruned);
        Assert.Equal(["named-keeper"], _cli.Ok("volume", "ls", "-q").Stdout.Lines());
        Assert.Contains("named-keeper", _cli.Ok("volume", "prune", "-f", "-a").Stdout.Lines());
        Assert.Empty(_cli.Ok("volume", "ls", "-q").Stdout.Lines());
    }

    [Fact]
    public void Rm_with_a_container_started_with_rm_removes_its_anonymous_volume()
    {
        var image = _cli.Pulled(sandbox);
        _cli.Ok("run", "--rm", "-v", "/scratch", "-v", "stays:/named", image, "true");
        Assert.Equal(["stays"], _cli.Ok("volume", "ls", "-q").Stdout.Lines());
    }

    [Fact]
    public void Volume_rm_of_a_volume_in_use_is_refused_until_the_container_is_gone()
    {
        var image = _cli.Pulled(sandbox);
        _cli.RunDetached("--name", "user", "-v", "busy:/data", image, "sleep", "1000");
        var line = _cli.Fails125("volume", "rm", "busy");
        Assert.Contains("in use", line);
        Assert.Contains("busy", _cli.Ok("volume", "ls", "-q").Stdout.Lines());

        // prune -a leaves it alone too.
        Assert.DoesNotContain("busy", _cli.Ok("volume", "prune", "-f", "-a").Stdout.Lines());

        _cli.Ok("rm", "-f", "user");
        Assert.Equal("busy\n", _cli.Ok("volume", "rm", "busy").Stdout);
        Assert.Empty(_cli.Ok("volume", "ls", "-q").Stdout.Lines());
    }

    [Fact]
    public void Volume_create_ls_and_rm()
    {
        _cli.Pulled(sandbox);
        Assert.Equal("made\n", _cli.Ok("volume", "create", "made").Stdout);
        var generated = _cli.Ok("volume", "create").Stdout.Trim();
        Assert.Matches("^[0-9a-f]{64}$", generated);
        var table = _cli.Ok("volume", "ls").Stdout.Lines();
        Assert.StartsWith("DRIVER", table[0]);
        Assert.Contains(table, l => l.StartsWith("local", StringComparison.Ordinal) && l.EndsWith("made", StringComparison.Ordinal));
        Assert.Equal("made\n", _cli.Ok("volume", "rm", "made").Stdout);
        Assert.Equal([generated], _cli.Ok("volume", "ls", "-q").Stdout.Lines());
        Assert.Contains("made", _cli.Fails125("volume", "rm", "made"));
        Assert.Contains("missing", _cli.Fails125("volume", "inspect", "missing"));
    }
}
