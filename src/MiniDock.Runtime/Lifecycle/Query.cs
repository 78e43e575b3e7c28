using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>The read-only commands: state, list, ps.</summary>
public static class Query
{
    public static string State(StateStore store, string id)
    {
        var r = store.Load(id);
        return System.Text.Encoding.UTF8.GetString(StateJson.Write(r.ToOci(store.Status(r)), indented: true));
    }

    public static List<ContainerListEntry> List(StateStore store)
    {
        var list = new List<ContainerListEntry>();
        foreach (var id in store.Ids().Order(StringComparer.Ordinal))
        {
            ContainerRecord r;
            try
            {
                r = store.Load(id);
            }
            catch (RuntimeError)
            {
                continue;
            }

            var st = store.Status(r);
            list.Add(new ContainerListEntry
            {
                OciVersion = r.Spec.OciVersion,
                Id = r.Id,
                Pid = st == ContainerStatus.Stopped ? 0 : r.Pid,
                Status = ContainerStateMachine.Name(st),
                Bundle = r.Bundle,
                Rootfs = r.Rootfs,
                Created = r.Created,
                Owner = r.Owner,
                Annotations = r.Spec.Annotations,
            });
        }

        return list;
    }

    public static IReadOnlyList<int> Pids(StateStore store, string id)
    {
        var r = store.Load(id);
        return store.Status(r) == ContainerStatus.Stopped ? [] : StateStore.Cgroup(r).Pids();
    }

    /// <summary>runc ps: the host's ps output (default -ef), filtered to the container's PIDs.</summary>
    public static string PsTable(StateStore store, string id, IReadOnlyList<string> psArgs)
    {
        var pids = Pids(store, id).ToHashSet();
        var (rd, wr) = MiniDock.Native.Sys.Pipe();
        int pid;
        try
        {
            pid = MiniDock.Native.Spawn.Start(new MiniDock.Native.SpawnRequest
            {
                Path = "/bin/ps",
                Args = ["ps", .. psArgs.Count > 0 ? psArgs : ["-ef"]],
                Env = ["PATH=/usr/bin:/bin", "LC_ALL=C"],
                Fds = [(1, wr)],
                CloseFrom = 3,
            });
        }
        finally
        {
            MiniDock.Native.Sys.Close(wr);
        }

        string output;
        using (var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(rd, ownsHandle: true), FileAccess.Read))
        using (var reader = new StreamReader(stream))
        {
            output = reader.ReadToEnd();
        }

        MiniDock.Native.Sys.WaitPid(pid, out _);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            return "";
        }

        var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var col = Array.IndexOf(header, "PID");
        if (col < 0)
        {
            throw new RuntimeError("ps output has no PID column");
        }

        var sb = new System.Text.StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > col && int.TryParse(f[col], out var rowPid) && pids.Contains(rowPid))
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }
}
