using System.Text.Json;
using MiniDock.Native;
using MiniDock.Runtime.Cgroups;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>
/// The runtime state root (runc's --root): one directory per container holding state.json (0600)
/// and, while the container is created but not started, exec.fifo. Writes are atomic (temp file +
/// rename) and every change happens under an flock on the container's directory.
/// </summary>
public sealed class StateStore
{
    public StateStore(string root)
    {
        Root = root;
    }

    public string Root { get; }

    /// <summary>runc's id rule (letters, digits, _ + - .) minus anything that is only dots: no path tricks.</summary>
    public static void ValidateId(string id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 1024 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-' or '.') || id.Trim('.').Length == 0)
        {
            throw new RuntimeError($"invalid container id {id}: use letters, digits, '_', '+', '-' and '.'");
        }
    }

    public string Dir(string id) => Path.Combine(Root, id);

    public string FifoPath(string id) => Path.Combine(Dir(id), "exec.fifo");

    /// <summary>linux.seccomp as create compiled it (flags, then the program): exec installs it without compiling again.</summary>
    public string SeccompPath(string id) => Path.Combine(Dir(id), "seccomp.bpf");

    public bool Exists(string id) => File.Exists(Path.Combine(Dir(id), "state.json"));

    /// <summary>Makes the container's directory; fails if the id is taken.</summary>
    public void CreateDir(string id)
    {
        // mkdir(2) itself is the "id taken?" test: atomic, so two creates of one id cannot both win.
        if (Libc.mkdirat(Consts.AtFdCwd, Dir(id), 0x1c0 /* 0700 */) == 0)
        {
            return;
        }

        if (Sys.Errno == Consts.EExist)
        {
            throw new RuntimeError($"container with id {id} already exists");
        }

        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (Libc.mkdirat(Consts.AtFdCwd, Dir(id), 0x1c0) < 0)
        {
            throw Sys.Errno == Consts.EExist
                ? new RuntimeError($"container with id {id} already exists")
                : new RuntimeError($"create state dir for {id}: {new SysException("mkdir", Sys.Errno).Message}");
        }
    }

    /// <summary>Takes an exclusive lock on the container's directory until disposed.</summary>
    public IDisposable Lock(string id)
    {
        var fd = Libc.open(Dir(id), OpenFlags.RdOnly | OpenFlags.Directory | OpenFlags.CloExec, 0);
        if (fd < 0)
        {
            throw new RuntimeError($"container {id} does not exist");
        }

        Libc.flock(fd, Consts.LockEx);
        return new FdLock(fd);
    }

    public ContainerRecord Load(string id)
    {
        ValidateId(id);
        var path = Path.Combine(Dir(id), "state.json");
        try
        {
            return StateJson.ReadRecord(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new RuntimeError($"container {id} does not exist");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new RuntimeError($"container {id}: corrupt state.json: {e.Message}");
        }
    }

    public void Save(ContainerRecord r)
    {
        var path = Path.Combine(Dir(r.Id), "state.json");
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        {
            fs.Write(StateJson.Write(r));
        }

        File.Move(tmp, path, overwrite: true);
    }

    public void Remove(string id)
    {
        try
        {
            Directory.Delete(Dir(id), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public IEnumerable<string> Ids() => Directory.Exists(Root)
        ? Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Where(n => n is not null && Exists(n)).Select(n => n!)
        : [];

    /// <summary>
    /// The live status: a record says what was last written, the process says what is true now. A
    /// dead (or reused) init PID means stopped; a live one with exec.fifo still present means created.
    /// </summary>
    public ContainerStatus Status(ContainerRecord r)
    {
        if (r.Pid <= 0 || !Processes.IsAlive(r.Pid, r.InitStartTime))
        {
            // A create that died before its init started leaves pid 0: that is stopped too, so delete can clean it.
            return ContainerStatus.Stopped;
        }

        if (File.Exists(FifoPath(r.Id)))
        {
            return ContainerStatus.Created;
        }

        if (!string.IsNullOrEmpty(r.CgroupPath) && Cgroup(r).IsFrozen())
        {
            return ContainerStatus.Paused;
        }

        return ContainerStatus.Running;
    }

    /// <summary>The container's cgroup manager, made once per record (it reads the host's mount table).</summary>
    public static ICgroupManager Cgroup(ContainerRecord r) => r.Cgroup ??= CgroupFs.For(r.CgroupPath, r.CgroupCreated);

    private sealed class FdLock(int fd) : IDisposable
    {
        public void Dispose() => Sys.Close(fd);
    }
}
