using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Store;
using MiniDock.Images;

namespace MiniDock.Cli.Commands;

/// <summary><c>info</c>: what this host gives MiniDock (storage driver, cgroup version, counts, paths).</summary>
internal static class InfoCommand
{
    public static Command Build()
    {
        var cmd = new Command("info", "Display system-wide information");
        cmd.SetAction(_ => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var root = services.GetRequiredService<DataRoot>();
            var all = svc.List();
            var cgroup = File.Exists("/sys/fs/cgroup/cgroup.controllers") ? "2" : Directory.Exists("/sys/fs/cgroup/unified") ? "1 (hybrid: cgroup2 at /sys/fs/cgroup/unified)" : "1";
            Console.WriteLine($"Containers: {all.Count}");
            Console.WriteLine($" Running: {all.Count(x => x.State == ContainerState.Running)}");
            Console.WriteLine($" Paused: {all.Count(x => x.State == ContainerState.Paused)}");
            Console.WriteLine($" Stopped: {all.Count(x => x.State is ContainerState.Exited or ContainerState.Created or ContainerState.Dead)}");
            Console.WriteLine($"Images: {services.GetRequiredService<ImageService>().List().Select(i => i.Id).Distinct().Count()}");
            Console.WriteLine($"Server Version: {Version.Text}");
            Console.WriteLine($"Storage Driver: {Containers.Rootfs.Snapshotters.Select(root.Data).Name}");
            Console.WriteLine("Logging Driver: json-file");
            Console.WriteLine($"Cgroup Version: {cgroup}");
            Console.WriteLine("Runtimes: minidock-runtime (embedded, runc-compatible)");
            Console.WriteLine($"Init Binary: {ContainerService.FindTini() ?? "(none: apt-get install tini for --init)"}");
            Console.WriteLine($"Kernel Version: {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()}");
            Console.WriteLine($"CPUs: {Environment.ProcessorCount}");
            Console.WriteLine($"Docker Root Dir: {root.Data}");
            Console.WriteLine($"Run Dir: {root.Run}");
            return 0;
        }));
        return cmd;
    }
}
