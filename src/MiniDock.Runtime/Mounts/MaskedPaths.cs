using MiniDock.Native;

namespace MiniDock.Runtime.Mounts;

/// <summary>
/// linux.maskedPaths and linux.readonlyPaths (config-linux.md#masked-paths). A masked file gets
/// /dev/null bound over it and a masked directory an empty read-only tmpfs; a readonly path is bound
/// onto itself and remounted read-only. Paths that don't exist are skipped, as the spec allows.
/// </summary>
public static class MaskedPaths
{
    public static void ApplyMasked(ISyscalls sys, IReadOnlyList<string>? paths, Trace trace)
    {
        foreach (var path in paths ?? [])
        {
            if (Directory.Exists(path))
            {
                sys.Mount("tmpfs", path, "tmpfs", MountFlags.RdOnly, null);
            }
            else if (System.IO.Path.Exists(path))
            {
                sys.Mount("/dev/null", path, null, MountFlags.Bind, null);
            }
            else
            {
                continue;
            }

            trace.Step($"mask {path}");
        }
    }

    public static void ApplyReadonly(ISyscalls sys, IReadOnlyList<string>? paths, Trace trace)
    {
        foreach (var path in paths ?? [])
        {
            if (!System.IO.Path.Exists(path))
            {
                continue;
            }

            sys.Mount(path, path, null, MountFlags.Bind | MountFlags.Rec, null);
            // Keep the flags the mount already has (a remount that drops a locked flag fails).
            var keep = Sys.StatfsFlags(path) & (MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.NoAtime | MountFlags.NoDirAtime | MountFlags.RelAtime);
            sys.Mount(null, path, null, MountFlags.Remount | MountFlags.Bind | MountFlags.RdOnly | MountFlags.Rec | keep, null);
            trace.Step($"read-only {path}");
        }
    }
}
