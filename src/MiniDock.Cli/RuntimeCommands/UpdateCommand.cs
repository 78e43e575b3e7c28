using System.CommandLine;
using System.Text.Json;
using MiniDock.Containers.Config;
using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.RuntimeCommands;

/// <summary>
/// <c>update [--resources FILE|-] [--memory N …] ID</c>: runc's update
/// (https://github.com/opencontainers/runc/blob/main/man/runc-update.8.md). Sizes take go-units suffixes
/// (<c>64m</c>) or -1 for unlimited, as runc's do. A <c>--resources</c> file (a linux.resources object, "-" for
/// stdin) is read first and the flags override it; what is given neither way keeps its current value.
/// </summary>
internal static class UpdateCommand
{
    public static Command Build(GlobalOptions g)
    {
        var id = new Argument<string>("container-id");
        var resources = new Option<string?>("--resources", "-r") { Description = "path to a JSON linux.resources object, or - for stdin" };
        var memory = new Option<string?>("--memory") { Description = "memory limit (in bytes, or with a k/m/g suffix; -1: unlimited)" };
        var reservation = new Option<string?>("--memory-reservation") { Description = "memory soft limit" };
        var swap = new Option<string?>("--memory-swap") { Description = "memory plus swap limit (-1: unlimited)" };
        var kernel = new Option<string?>("--kernel-memory") { Description = "kernel memory limit (ignored by current kernels)" };
        var kernelTcp = new Option<string?>("--kernel-memory-tcp") { Description = "kernel TCP buffer limit" };
        var shares = new Option<ulong?>("--cpu-share", "--cpu-shares") { Description = "CPU shares (relative weight)" };
        var quota = new Option<long?>("--cpu-quota") { Description = "CFS quota in µs per period (-1: none)" };
        var period = new Option<ulong?>("--cpu-period") { Description = "CFS period in µs" };
        var rtPeriod = new Option<ulong?>("--cpu-rt-period") { Description = "realtime period in µs" };
        var rtRuntime = new Option<long?>("--cpu-rt-runtime") { Description = "realtime runtime in µs" };
        var idle = new Option<long?>("--cpu-idle") { Description = "1: SCHED_IDLE for the cgroup" };
        var cpus = new Option<string?>("--cpuset-cpus") { Description = "CPUs to use (0-3, 0,1)" };
        var mems = new Option<string?>("--cpuset-mems") { Description = "memory nodes to use (0-3, 0,1)" };
        var pids = new Option<long?>("--pids-limit") { Description = "maximum number of tasks (-1 or 0: unlimited)" };
        var blkio = new Option<ushort?>("--blkio-weight") { Description = "block I/O weight, 10 to 1000" };
        var cmd = new Command("update", "update the cgroup limits of a container")
        {
            id, resources, memory, reservation, swap, kernel, kernelTcp, shares, quota, period, rtPeriod, rtRuntime, idle, cpus, mems, pids, blkio,
        };
        cmd.SetAction(p => RuntimeCli.Guard(g, p, () =>
        {
            var patch = p.GetValue(resources) is { } file ? ReadResources(file) : new ResourcesSpec();
            long? Size(Option<string?> o) => p.GetValue(o) is { } v ? ParseSize(o.Name, v) : null;
            if (Size(memory) is { } lim)
            {
                (patch.Memory ??= new()).Limit = lim;
            }

            if (Size(reservation) is { } res)
            {
                (patch.Memory ??= new()).Reservation = res;
            }

            if (Size(swap) is { } sw)
            {
                (patch.Memory ??= new()).Swap = sw;
            }

            if (Size(kernel) is { } k)
            {
                (patch.Memory ??= new()).Kernel = k;
            }

            if (Size(kernelTcp) is { } kt)
            {
                (patch.Memory ??= new()).KernelTCP = kt;
            }

            var cpu = new CpuSpec
            {
                Shares = p.GetValue(shares),
                Quota = p.GetValue(quota),
                Period = p.GetValue(period),
                RealtimePeriod = p.GetValue(rtPeriod),
                RealtimeRuntime = p.GetValue(rtRuntime),
                Idle = p.GetValue(idle),
                Cpus = p.GetValue(cpus),
                Mems = p.GetValue(mems),
            };
            if (cpu.Shares is not null || cpu.Quota is not null || cpu.Period is not null || cpu.RealtimePeriod is not null || cpu.RealtimeRuntime is not null
                || cpu.Idle is not null || cpu.Cpus is not null || cpu.Mems is not null)
            {
                (patch.Cpu ??= new CpuSpec()).Overlay(cpu);
            }

            if (p.GetValue(pids) is { } pl)
            {
                patch.Pids = new PidsSpec { Limit = pl };
            }

            if (p.GetValue(blkio) is { } bw)
            {
                (patch.BlockIO ??= new()).Weight = bw;
            }

            Update.Run(g.Store(p), p.GetValue(id)!, patch, g.Trace(p));
            return 0;
        }));
        return cmd;
    }

    /// <summary>runc's size flags: "-1" for unlimited, else go-units' RAMInBytes.</summary>
    internal static long ParseSize(string flag, string value)
    {
        if (value == "-1")
        {
            return -1;
        }

        try
        {
            return Units.ParseBytes(value);
        }
        catch (ContainerException e)
        {
            throw new RuntimeError($"invalid value for {flag}: {e.Message}");
        }
    }

    private static ResourcesSpec ReadResources(string file)
    {
        var bytes = file == "-" ? ReadStdin() : File.ReadAllBytes(file);
        using var doc = JsonDocument.Parse(bytes);
        return SpecReader.ReadResources(doc.RootElement);
    }

    private static byte[] ReadStdin()
    {
        using var ms = new MemoryStream();
        Console.OpenStandardInput().CopyTo(ms);
        return ms.ToArray();
    }
}
