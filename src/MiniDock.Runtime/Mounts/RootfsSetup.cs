using MiniDock.Native;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Mounts;

/// <summary>
/// Builds the container's filesystem view inside the init's new mount namespace, in the order
/// runtime-spec config.md requires: root propagation, the rootfs bind, the mounts as listed, the
/// devices, pivot_root, then (from inside) sysctls, readonly and masked paths and a read-only root.
/// </summary>
public sealed class RootfsSetup
{
    private readonly ISyscalls _sys;
    private readonly RuntimeSpec _spec;
    private readonly string _rootfs;
    private readonly string _bundle;
    private readonly Trace _trace;
    private readonly string _cgroupPath;
    private readonly bool _newCgroupNs;
    private readonly bool _newMountNs;
    private int _rootFd = -1;

    public RootfsSetup(ISyscalls sys, RuntimeSpec spec, string rootfs, string bundle, string cgroupPath, Trace trace)
    {
        _sys = sys;
        _spec = spec;
        _rootfs = rootfs;
        _bundle = bundle;
        _cgroupPath = cgroupPath;
        _trace = trace;
        _newCgroupNs = spec.Linux?.Namespaces?.Any(n => n.Type == "cgroup" && string.IsNullOrEmpty(n.Path)) == true;
        _newMountNs = spec.Linux?.Namespaces?.Any(n => n.Type == "mount") == true;
    }

    /// <summary>Everything before pivot_root.</summary>
    public void Prepare()
    {
        // "/" is private here but shared on systemd hosts: make it a slave (or what the spec asks)
        // so nothing we mount propagates back to the host.
        // Shared or unbindable are applied to the new root after pivot_root (Finish): an unbindable
        // "/" would refuse the rootfs bind, and a shared one would refuse pivot_root.
        var requested = _spec.Linux?.RootfsPropagation is { Length: > 0 } p ? MountOptions.ParsePropagation(p) : 0;
        var rootProp = (requested & MountFlags.Private) != 0 ? MountFlags.Private | MountFlags.Rec : MountFlags.Slave | MountFlags.Rec;
        if (!_newMountNs)
        {
            // No mount namespace of its own: the container shares the caller's, so nothing of the
            // caller's tree may change. Mounts land on the rootfs paths, then chroot (as runc does).
            _rootFd = Sys.Open(_rootfs, OpenFlags.Path | OpenFlags.Directory);
            foreach (var m in _spec.Mounts ?? [])
            {
                MountOne(m);
            }

            Devices.Create(_sys, _rootFd, _spec, _trace);
            return;
        }

        _sys.Mount(null, "/", null, rootProp, null);

        // pivot_root refuses a new root whose parent mount is shared (EINVAL).
        if (MountInfo.ParentMountOf(_rootfs) is { Shared: true } parent)
        {
            _sys.Mount(null, parent.MountPoint, null, MountFlags.Private, null);
        }

        _sys.Mount(_rootfs, _rootfs, null, MountFlags.Bind | MountFlags.Rec, null);
        _trace.Step($"bind rootfs {_rootfs} onto itself (/ {_spec.Linux?.RootfsPropagation ?? "rslave"})");
        _rootFd = Sys.Open(_rootfs, OpenFlags.Path | OpenFlags.Directory);
        foreach (var m in _spec.Mounts ?? [])
        {
            MountOne(m);
        }

        Devices.Create(_sys, _rootFd, _spec, _trace);
    }

    /// <summary>pivot_root(".", ".") and detach the old root, as runc does: no temporary directory needed.</summary>
    public void PivotRoot()
    {
        if (!_newMountNs)
        {
            _sys.Chdir(_rootfs);
            _sys.Chroot(".");
            _sys.Chdir("/");
            Sys.Close(_rootFd);
            _rootFd = -1;
            _trace.Step("chroot into the rootfs (no mount namespace: pivot_root would move the caller's root)");
            return;
        }

        _sys.Chdir(_rootfs);
        _sys.PivotRoot(".", ".");
        _sys.Mount(null, ".", null, MountFlags.Slave | MountFlags.Rec, null);
        _sys.Umount(".", MountFlags.MntDetach);
        _sys.Chdir("/");
        Sys.Close(_rootFd);
        _rootFd = -1;
        _trace.Step("pivot_root into the rootfs; old root detached");
    }

    /// <summary>After pivot_root: sysctls, readonly paths, masked paths, root read-only, root propagation.</summary>
    public void Finish()
    {
        foreach (var (key, value) in _spec.Linux?.Sysctl ?? [])
        {
            var path = "/proc/sys/" + key.Replace('.', '/');
            if (key.Contains("..") || key.Contains('/'))
            {
                throw new RuntimeError($"invalid sysctl {key}");
            }

            try
            {
                File.WriteAllText(path, value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RuntimeError($"sysctl {key}={value}: {e.Message}");
            }

            _trace.Step($"sysctl {key}={value}");
        }

        MaskedPaths.ApplyReadonly(_sys, _spec.Linux?.ReadonlyPaths, _trace);
        MaskedPaths.ApplyMasked(_sys, _spec.Linux?.MaskedPaths, _trace);
        if (_spec.Root?.Readonly == true && _newMountNs)
        {
            var flags = Sys.StatfsFlags("/") & (MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.NoAtime | MountFlags.NoDirAtime | MountFlags.RelAtime);
            _sys.Mount(null, "/", null, MountFlags.Remount | MountFlags.Bind | MountFlags.RdOnly | flags, null);
            _trace.Step("remount / read-only");
        }

        if (_spec.Linux?.RootfsPropagation is { Length: > 0 } p && _newMountNs)
        {
            _sys.Mount(null, "/", null, MountOptions.ParsePropagation(p), null);
            _trace.Step($"rootfs propagation {p}");
        }
    }

    private void MountOne(MountSpec m)
    {
        if (string.IsNullOrEmpty(m.Destination))
        {
            throw new RuntimeError("mount with an empty destination");
        }

        var o = MountOptions.Parse(m.Options, m.Type);
        if (m.Type == "cgroup" || m.Type == "cgroup2")
        {
            MountCgroup(m, o);
            return;
        }

        string? source = m.Source;
        var isFile = false;
        if (o.Bind)
        {
            source = System.IO.Path.IsPathRooted(m.Source ?? "") ? m.Source! : System.IO.Path.Combine(_bundle, m.Source ?? "");
            if (!System.IO.Path.Exists(source))
            {
                throw new RuntimeError($"bind mount source {source} does not exist");
            }

            isFile = !Directory.Exists(source);
        }

        var fd = SecureJoin.OpenOrCreate(_rootFd, m.Destination, isFile);
        try
        {
            var target = SecureJoin.FdPath(fd);
            if (o.Bind)
            {
                _sys.Mount(source, target, null, MountFlags.Bind | (o.Recursive ? MountFlags.Rec : 0), null);
                var extra = o.Flags & ~MountFlags.Remount;
                if (extra != 0)
                {
                    // The fd still names the dentry under the new mount: reopen to reach the mount itself.
                    fd = Reopen(fd, m.Destination);
                    target = SecureJoin.FdPath(fd);
                    _sys.Mount(source, target, null, MountFlags.Remount | MountFlags.Bind | extra, null);
                }
            }
            else
            {
                var type = m.Type ?? throw new RuntimeError($"mount {m.Destination}: no type");
                try
                {
                    _sys.Mount(source ?? type, target, type, o.Flags, o.Data.Length > 0 ? o.Data : null);
                }
                catch (SysException e) when (type == "sysfs" && e.Errno == Consts.EPerm)
                {
                    // No new network namespace: sysfs can't be mounted fresh, so bind the host's read-only (as runc does).
                    // (A user namespace joining a network namespace it does not own, e.g. --userns-remap on a bridge, lands here too.)
                    _sys.Mount("/sys", target, null, MountFlags.Bind | MountFlags.Rec, null);
                    fd = Reopen(fd, m.Destination);
                    target = SecureJoin.FdPath(fd);
                    _sys.Mount(null, target, null, MountFlags.Remount | MountFlags.Bind | MountFlags.RdOnly | o.Flags, null);
                }
            }

            if (o.Propagation != 0)
            {
                fd = Reopen(fd, m.Destination);
                _sys.Mount(null, SecureJoin.FdPath(fd), null, o.Propagation, null);
            }

            _trace.Step($"mount {m.Type ?? "bind"} {source} on {m.Destination} [{string.Join(',', m.Options ?? [])}]");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    /// <summary>
    /// A "cgroup" mount: with a new cgroup namespace the kernel shows the container's own cgroup as
    /// the root; without one, the container's cgroup directories are bound in instead (as runc does),
    /// so it never sees the host's tree.
    /// </summary>
    private void MountCgroup(MountSpec m, MountOptions o)
    {
        var flags = o.Flags | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec;
        var fd = SecureJoin.MkdirAll(_rootFd, m.Destination);
        try
        {
            if (CgroupFs.IsUnified())
            {
                if (_newCgroupNs)
                {
                    _sys.Mount("cgroup2", SecureJoin.FdPath(fd), "cgroup2", flags, null);
                }
                else
                {
                    BindRo(System.IO.Path.Combine(CgroupFs.Root, _cgroupPath.TrimStart('/')), m.Destination, flags);
                }

                _trace.Step($"mount cgroup2 on {m.Destination}");
                return;
            }

            _sys.Mount("tmpfs", SecureJoin.FdPath(fd), "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755");
            foreach (var (mountPoint, controllers) in Cgroups.V1.V1Manager.Hierarchies())
            {
                var name = System.IO.Path.GetFileName(mountPoint);
                var sub = SecureJoin.MkdirAll(_rootFd, m.Destination.TrimEnd('/') + "/" + name);
                try
                {
                    if (_newCgroupNs)
                    {
                        _sys.Mount("cgroup", SecureJoin.FdPath(sub), controllers == "cgroup2" ? "cgroup2" : "cgroup", flags, controllers == "cgroup2" ? null : controllers);
                    }
                    else
                    {
                        BindRo(System.IO.Path.Combine(mountPoint, _cgroupPath.TrimStart('/')), m.Destination.TrimEnd('/') + "/" + name, flags);
                    }
                }
                finally
                {
                    Sys.Close(sub);
                }
            }

            if ((flags & MountFlags.RdOnly) != 0)
            {
                fd = Reopen(fd, m.Destination);
                _sys.Mount(null, SecureJoin.FdPath(fd), null, MountFlags.Remount | MountFlags.RdOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755");
            }

            _trace.Step($"mount cgroup (v1 hierarchies) on {m.Destination}");
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    private int Reopen(int fd, string destination)
    {
        Sys.Close(fd);
        var again = SecureJoin.TryOpen(_rootFd, destination);
        return again >= 0 ? again : throw new RuntimeError($"mount target {destination} vanished");
    }

    private void BindRo(string source, string destination, ulong flags)
    {
        if (!Directory.Exists(source))
        {
            return;
        }

        var fd = SecureJoin.MkdirAll(_rootFd, destination);
        try
        {
            _sys.Mount(source, SecureJoin.FdPath(fd), null, MountFlags.Bind, null);
            fd = Reopen(fd, destination);
            _sys.Mount(null, SecureJoin.FdPath(fd), null, MountFlags.Remount | MountFlags.Bind | flags, null);
        }
        finally
        {
            Sys.Close(fd);
        }
    }

}
