using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using MiniDock.Containers;
using MiniDock.Containers.Copy;

namespace MiniDock.Cli.Commands;

/// <summary>
/// <c>cp CONTAINER:SRC DEST</c> and <c>cp SRC CONTAINER:DEST</c>: container paths are resolved inside its rootfs
/// (mounted for the copy when the container is stopped), never through a symlink that leads out of it.
/// </summary>
internal static class CpCommand
{
    public static Command Build()
    {
        var src = new Argument<string>("source");
        var dest = new Argument<string>("destination");
        var follow = new Option<bool>("--follow-link", "-L") { Description = "always follow a symlink in SRC" };
        var cmd = new Command("cp", "Copy files between a container and the host") { src, dest, follow };
        cmd.SetAction(p => UserError.Guard(services =>
        {
            var svc = services.GetRequiredService<ContainerService>();
            var (s, d) = (p.GetValue(src)!, p.GetValue(dest)!);
            var sc = Split(s);
            var dc = Split(d);
            if ((sc.Container is null) == (dc.Container is null))
            {
                throw new FormatException("copying between containers or between host paths is not supported: give exactly one CONTAINER:PATH");
            }

            var row = svc.Require((sc.Container ?? dc.Container)!);
            var snap = svc.SnapshotterOf(row);
            var dir = svc.Paths.Dir(row.Id);
            var wasMounted = snap.IsMounted(dir);
            var rootfs = svc.Mount(row);
            try
            {
                if (sc.Container is not null)
                {
                    ContainerCopy.FromContainer(rootfs, sc.Path, d == "-" ? throw new FormatException("cp to stdout (tar) is not supported") : d, p.GetValue(follow));
                }
                else
                {
                    ContainerCopy.ToContainer(s, rootfs, dc.Path);
                }
            }
            finally
            {
                if (!wasMounted && !Containers.Store.ContainerStates.IsActive(svc.Refresh(row)))
                {
                    snap.Unmount(dir);
                }
            }

            return 0;
        }));
        return cmd;
    }

    /// <summary>Docker's rule: NAME:PATH is a container path unless it starts with / or . (a host path with a colon).</summary>
    private static (string? Container, string Path) Split(string arg)
    {
        var colon = arg.IndexOf(':');
        return colon > 0 && arg[0] is not ('/' or '.') ? (arg[..colon], arg[(colon + 1)..]) : (null, arg);
    }
}
