using System.Diagnostics;
using MiniDock.Native;
using MiniDock.Runtime.Cgroups.V2;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Cgroups;

/// <summary>
/// The v2 device filter enforced by the kernel: a cgroup-device program attaches to any cgroup2 directory, and the
/// kernel consults it besides the v1 devices controller, so this hybrid host's /sys/fs/cgroup/unified is enough.
/// Each check runs a shell that is moved into the cgroup while it waits on stdin, before it opens anything.
/// </summary>
public sealed class V2DeviceFilterTests : IDisposable
{
    private const string Mount = "/sys/fs/cgroup/unified";
    private const string Parent = "/minidock-unit-dev";
    private readonly string _path = $"{Parent}/{Guid.NewGuid():N}";
    private readonly string _tmp = Directory.CreateTempSubdirectory("minidock-devtest").FullName;

    public void Dispose()
    {
        foreach (var d in new[] { Mount + _path, Mount + Parent })
        {
            try { Directory.Delete(d); } catch (IOException) { }
        }

        try { Directory.Delete(_tmp, true); } catch (IOException) { }
    }

    /// <summary>Skips without root, without a cgroup2 mount, or where bpf() cannot load a device program (EPERM, ENOSYS).</summary>
    public sealed class BpfDeviceFactAttribute : FactAttribute
    {
        public BpfDeviceFactAttribute()
        {
            Skip = Libc.geteuid() != 0 ? "needs root"
                : !File.Exists(Path.Combine(Mount, "cgroup.procs")) ? $"no cgroup2 mount at {Mount}"
                : Probe();
        }

        private static string? Probe()
        {
            try
            {
                Sys.Close(Bpf.LoadProgram(Bpf.ProgTypeCgroupDevice, Bpf.AttachCgroupDevice, DeviceFilter.Build([]), DeviceFilter.License));
                return null;
            }
            catch (SysException e)
            {
                return $"cannot load a cgroup device program here: {e.Message}";
            }
        }
    }

    private static DeviceCgroupRule Rule(bool allow, string? type, long? major, long? minor, string access)
        => new() { Allow = allow, Type = type, Major = major, Minor = minor, Access = access };

    /// <summary>Docker's list (moby oci/defaults.go) less the device nodes the engine appends itself.</summary>
    private static List<DeviceCgroupRule> DockerRules() =>
        [Rule(false, null, null, null, "rwm"), Rule(true, "c", null, null, "m"), Rule(true, "b", null, null, "m")];

    /// <summary>Runs <paramref name="script"/> under sh inside the cgroup; returns its stdout and stderr.</summary>
    private static string RunIn(V2Manager cg, string script)
    {
        var psi = new ProcessStartInfo("sh", ["-c", "read x; " + script])
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        try
        {
            cg.AddProcess(p.Id);
            p.StandardInput.WriteLine("go");
            p.StandardInput.Close();
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(10000), "the shell did not finish");
            return output + err.Result;
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill();
            }
        }
    }

    /// <summary>One line per check: "name ok" or "name denied" (EPERM, which the filter answers) or "name other: message".</summary>
    private static string Check(string name, string command)
        => $"if out=$({{ {command}; }} 2>&1 >/dev/null); then echo '{name} ok'; else case \"$out\" in *'not permitted'*) echo '{name} denied';; *) echo \"{name} other: $out\";; esac; fi; ";

    private static int AttachedPrograms(string dir)
    {
        var fd = Sys.Open(dir, OpenFlags.RdOnly | OpenFlags.Directory);
        try
        {
            return Bpf.QueryAttached(fd, Bpf.AttachCgroupDevice).Length;
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    [BpfDeviceFact]
    public void The_generated_program_alone_allows_exactly_what_the_rules_say()
    {
        var cg = new V2Manager(Mount, _path);
        cg.Create();
        try
        {
            // No default devices here: the bare program for deny all, allow null rwm, allow zero r.
            var prog = Bpf.LoadProgram(Bpf.ProgTypeCgroupDevice, Bpf.AttachCgroupDevice,
                DeviceFilter.Build([Rule(false, "a", null, null, "rwm"), Rule(true, "c", 1, 3, "rwm"), Rule(true, "c", 1, 5, "r")]), DeviceFilter.License);
            var dirFd = Sys.Open(Mount + _path, OpenFlags.RdOnly | OpenFlags.Directory);
            try
            {
                Bpf.Attach(dirFd, prog, Bpf.AttachCgroupDevice, Bpf.FAllowMulti);
            }
            finally
            {
                Sys.Close(dirFd);
                Sys.Close(prog);
            }

            var output = RunIn(cg,
                Check("zero-read", "head -c1 /dev/zero") +
                Check("null-write", "echo x > /dev/null") +
                Check("zero-write", "echo x > /dev/zero") +
                Check("full-read", "head -c1 /dev/full"));
            Assert.Contains("zero-read ok", output);
            Assert.Contains("null-write ok", output);
            Assert.Contains("zero-write denied", output);
            Assert.Contains("full-read denied", output);
        }
        finally
        {
            cg.Destroy();
        }
    }

    [BpfDeviceFact]
    public void Set_with_dockers_list_lets_a_disk_be_made_but_not_read_and_update_replaces_the_program()
    {
        var cg = new V2Manager(Mount, _path);
        cg.Create();
        try
        {
            cg.Set(new ResourcesSpec { Devices = DockerRules() }, null);
            Assert.Equal(1, AttachedPrograms(Mount + _path));

            // b 7:0 is /dev/loop0: mknod is allowed by "b *:* m", opening it is not (whether or not loop is loaded:
            // the filter answers before the driver is looked up).
            var blk = Path.Combine(_tmp, "blk");
            var script = Check("mknod", $"mknod {blk} b 7 0") + Check("blk-read", $"head -c1 {blk}") +
                         Check("null-write", "echo x > /dev/null") + Check("full-read", "head -c1 /dev/full") +
                         Check("urandom-read", "head -c1 /dev/urandom");
            var output = RunIn(cg, script);
            Assert.Contains("mknod ok", output);
            Assert.Contains("blk-read denied", output);
            Assert.Contains("null-write ok", output);   // the default devices come with every list
            Assert.Contains("full-read ok", output);
            Assert.Contains("urandom-read ok", output);

            // A second Set (update) with the disk allowed for reading: the old, stricter program must go, or it
            // would keep denying (every attached program must allow).
            var more = DockerRules();
            more.Add(Rule(true, "b", 7, 0, "r"));
            cg.Set(new ResourcesSpec { Devices = more }, null);
            Assert.Equal(1, AttachedPrograms(Mount + _path));
            Assert.DoesNotContain("blk-read denied", RunIn(cg, Check("blk-read", $"head -c1 {blk}")));

            // An update that does not touch devices leaves the program as it is.
            cg.Set(new ResourcesSpec(), null);
            Assert.Equal(1, AttachedPrograms(Mount + _path));

            cg.Set(new ResourcesSpec { Devices = DockerRules() }, null);
            Assert.Equal(1, AttachedPrograms(Mount + _path));
            Assert.Contains("blk-read denied", RunIn(cg, Check("blk-read", $"head -c1 {blk}")));
        }
        finally
        {
            cg.Destroy();
        }
    }
}
