using MiniDock.Native;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Mounts;

/// <summary>
/// The default devices every Linux container gets (config-linux.md#default-filesystems and
/// #default-devices), linux.devices, the /dev/fd and /dev/std* links, /dev/ptmx → pts/ptmx, and an
/// empty /dev/console for the pty slave when the process has a terminal.
/// </summary>
public static class Devices
{
    public static readonly (string Path, uint Major, uint Minor)[] Defaults =
    [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
        ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ];

    private static readonly (string Link, string Target)[] Links =
    [
        ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
        ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
        ("/dev/ptmx", "pts/ptmx"),
    ];

    public static void Create(ISyscalls sys, int rootFd, RuntimeSpec spec, Trace trace)
    {
        var old = Libc.umask(0);
        try
        {
            var listed = spec.Linux?.Devices ?? [];
            var userns = spec.Linux?.Namespaces?.Any(n => n.Type == "user") == true;
            foreach (var (path, major, minor) in Defaults)
            {
                if (!listed.Any(d => Same(d.Path, path)))
                {
                    Make(sys, rootFd, path, StatMode.IfChr | 0x1b6 /* 0666 */, major, minor, 0, 0, userns);
                }
            }

            foreach (var d in listed)
            {
                if (!d.Path.StartsWith("/dev/", StringComparison.Ordinal) && d.Path != "/dev")
                {
                    throw new RuntimeError($"device {d.Path}: linux.devices paths must be under /dev");
                }

                var type = d.Type switch
                {
                    "c" or "u" => StatMode.IfChr,
                    "b" => StatMode.IfBlk,
                    "p" => StatMode.IfIfo,
                    _ => throw new RuntimeError($"device {d.Path}: unknown type {d.Type}"),
                };
                Make(sys, rootFd, d.Path, type | ((d.FileMode ?? 0x1b6) & 0xfff), (uint)d.Major, (uint)d.Minor, d.Uid ?? 0, d.Gid ?? 0, userns && type != StatMode.IfIfo);
            }

            foreach (var (link, target) in Links)
            {
                var (parent, name) = SecureJoin.Parent(rootFd, link);
                try
                {
                    Sys.UnlinkAt(parent, name);
                    if (Libc.symlinkat(target, parent, name) < 0 && Sys.Errno != Consts.EExist)
                    {
                        throw new SysException($"symlink {link}", Sys.Errno);
                    }
                }
                finally
                {
                    Sys.Close(parent);
                }
            }

            if (spec.Process?.Terminal == true)
            {
                Sys.Close(SecureJoin.OpenOrCreate(rootFd, "/dev/console", asFile: true));
            }

            trace.Step($"devices: {Defaults.Length} defaults, {listed.Count} from linux.devices, /dev/fd and /dev/std* links");
        }
        finally
        {
            Libc.umask(old);
        }
    }

    /// <summary>
    /// mknod, or under a user namespace a bind mount of the host's node onto an empty file: mknod
    /// of a device needs CAP_MKNOD in the initial user namespace, so runc binds (libcontainer's
    /// bindMountDeviceNode), and so does this. The node keeps the host's owner and mode then.
    /// </summary>
    private static void Make(ISyscalls sys, int rootFd, string path, uint mode, uint major, uint minor, uint uid, uint gid, bool bind)
    {
        var (parent, name) = SecureJoin.Parent(rootFd, path);
        try
        {
            // An image may ship its own node or a regular file here: replace it, never write through it.
            Sys.UnlinkAt(parent, name);
            if (bind)
            {
                var fd = SecureJoin.OpenOrCreate(rootFd, path, asFile: true);
                try
                {
                    sys.Mount(path, SecureJoin.FdPath(fd), null, MountFlags.Bind, null);
                }
                finally
                {
                    Sys.Close(fd);
                }

                return;
            }

            sys.MknodAt(parent, name, mode, major, minor);
            sys.FchownAt(parent, name, uid, gid);
        }
        finally
        {
            Sys.Close(parent);
        }
    }

    private static bool Same(string a, string b) => a.TrimEnd('/') == b;
}
