using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Config;
using MiniDock.Containers.Resources;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>update [flags] CONTAINER...</c> (https://docs.docker.com/reference/cli/docker/container/update/): new cgroup
/// limits or restart policy. A live container gets them at once through the engine's update; every container keeps
/// them in its stored options, so a restart brings them back. Each name is printed when done, as Docker does.
/// </summary>
internal static class UpdateCommand
{
    public static Command Build()
    {
        var names = new Argument<string[]>("container") { Arity = ArgumentArity.OneOrMore };
        var memory = new Option<string?>("--memory", "-m") { Description = "memory limit (e.g. 512m)" };
        var reservation = new Option<string?>("--memory-reservation") { Description = "memory soft limit" };
        var swap = new Option<string?>("--memory-swap") { Description = "memory plus swap limit; -1: unlimited swap" };
        var cpus = new Option<string?>("--cpus") { Description = "number of CPUs" };
        var shares = new Option<long?>("--cpu-shares", "-c") { Description = "CPU shares (relative weight)" };
        var period = new Option<long?>("--cpu-period") { Description = "CFS period in µs" };
        var quota = new Option<long?>("--cpu-quota") { Description = "CFS quota in µs per period" };
        var cpusetCpus = new Option<string?>("--cpuset-cpus") { Description = "CPUs to run on (0-3, 0,1)" };
        var cpusetMems = new Option<string?>("--cpuset-mems") { Description = "memory nodes to use (0-3, 0,1)" };
        var pids = new Option<long?>("--pids-limit") { Description = "maximum number of processes (-1: unlimited)" };
        var blkio = new Option<long?>("--blkio-weight") { Description = "block I/O weight, 10 to 1000" };
        var restart = new Option<string?>("--restart") { Description = "restart policy: no, on-failure[:N], always, unless-stopped" };
        var cmd = new Command("update", "Update configuration of one or more containers")
        {
            names, memory, reservation, swap, cpus, shares, period, quota, cpusetCpus, cpusetMems, pids, blkio, restart,
        };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var u = new ResourceUpdate
            {
                Memory = p.GetValue(memory) is { } m ? Units.ParseBytes(m) : null,
                MemoryReservation = p.GetValue(reservation) is { } r ? Units.ParseBytes(r) : null,
                MemorySwap = p.GetValue(swap) is { } s ? ResourceFlags.Swap(s) : null,
                Cpus = p.GetValue(cpus) is { } c ? ResourceFlags.ParseCpus(c) : null,
                CpuShares = p.GetValue(shares),
                CpuPeriod = p.GetValue(period),
                CpuQuota = p.GetValue(quota),
                CpusetCpus = p.GetValue(cpusetCpus),
                CpusetMems = p.GetValue(cpusetMems),
                PidsLimit = p.GetValue(pids),
                BlkioWeight = p.GetValue(blkio),
                Restart = p.GetValue(restart),
            };
            if (!u.HasLimits && string.IsNullOrEmpty(u.Restart))
            {
                throw new ContainerException("you must provide one or more flags when using this command");
            }

            var svc = services.GetRequiredService<ContainerService>();
            var warned = false;
            return UserError.EachName(p.GetValue(names)!, name =>
            {
                foreach (var w in svc.Update(svc.Require(name), u))
                {
                    if (!warned)
                    {
                        Console.Error.WriteLine("WARNING: " + w);
                    }
                }

                warned = true;
            });
        }));
        return cmd;
    }

}
