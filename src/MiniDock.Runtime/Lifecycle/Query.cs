using System.Diagnostics;
using System.Text.Json;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Lifecycle;

/// <summary>The read-only commands: state, list, ps.</summary>
public static class Query
{
    public static string State(StateStore store, string id)
    {
        var r = store.Load(id);
        return JsonSerializer.Serialize(r.ToOci(store.Status(r)), SpecJsonContext.Default.OciState);
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
        var psi = new ProcessStartInfo("ps") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in psArgs.Count > 0 ? psArgs : ["-ef"])
        {
            psi.ArgumentList.Add(a);
        }

        using var ps = Process.Start(psi) ?? throw new RuntimeError("cannot run ps");
        var lines = ps.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        ps.WaitForExit();
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
            if (f.Length > col && int.TryParse(f[col], out var pid) && pids.Contains(pid))
            {
                sb.Append(line).Append('\n');
            }
        }

        return sb.ToString();
    }
}
