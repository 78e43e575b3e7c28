using System.Globalization;
using System.Text;
using System.Text.Json;
using MiniDock.Containers;
using MiniDock.Containers.Store;

namespace MiniDock.Cli.Output;

/// <summary>
/// How containers look to a user: Docker's ps columns and status words, and inspect's JSON shape
/// (https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Container/operation/ContainerInspect), written by
/// hand with Utf8JsonWriter so that scripts written for Docker (<c>.State.ExitCode</c>, <c>.State.OOMKilled</c>) work.
/// </summary>
internal static class ContainerViews
{
    /// <summary>Docker's go-units HumanDuration.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var s = d.TotalSeconds;
        if (s < 1)
        {
            return "Less than a second";
        }

        if (s < 2)
        {
            return "1 second";
        }

        if (s < 60)
        {
            return $"{(int)s} seconds";
        }

        var m = d.TotalMinutes;
        if (m < 2)
        {
            return "About a minute";
        }

        if (m < 60)
        {
            return $"{(int)m} minutes";
        }

        var h = d.TotalHours;
        if (Math.Round(h) == 1)
        {
            return "About an hour";
        }

        if (h < 48)
        {
            return $"{(int)h} hours";
        }

        if (h < 24 * 7 * 2)
        {
            return $"{(int)(h / 24)} days";
        }

        if (h < 24 * 30 * 2)
        {
            return $"{(int)(h / 24 / 7)} weeks";
        }

        return h < 24 * 365 * 2 ? $"{(int)(h / 24 / 30)} months" : $"{(int)(h / 24 / 365)} years";
    }

    public static string Status(ContainerRow r, ContainerState s)
    {
        var now = DateTime.UtcNow;
        return s switch
        {
            ContainerState.Running => $"Up {HumanDuration(now - new DateTime(r.StartedAt, DateTimeKind.Utc))}",
            ContainerState.Paused => $"Up {HumanDuration(now - new DateTime(r.StartedAt, DateTimeKind.Utc))} (Paused)",
            ContainerState.Restarting => $"Restarting ({r.ExitCode}) {HumanDuration(now - new DateTime(r.FinishedAt, DateTimeKind.Utc))} ago",
            ContainerState.Exited => $"Exited ({r.ExitCode}) {HumanDuration(now - new DateTime(r.FinishedAt, DateTimeKind.Utc))} ago",
            ContainerState.Removing => "Removing",
            ContainerState.Created => "Created",
            _ => "Dead",
        };
    }

    /// <summary>The command as ps shows it: args joined, quoted, truncated to 20 characters unless --no-trunc.</summary>
    public static string Command(ContainerRow r, bool truncate)
    {
        var args = ResolvedConfig.Parse(r.Resolved)?.Args ?? RunOptionsJson.Read(r.Options).Args;
        var text = string.Join(' ', args);
        if (truncate && text.Length > 20)
        {
            text = text[..19] + "…";
        }

        return "\"" + text + "\"";
    }

    public static string Time(long ticks) => ticks == 0
        ? "0001-01-01T00:00:00Z"
        : new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>One <c>ps --format json</c> line (Docker's keys).</summary>
    public static string PsJson(ContainerRow r, ContainerState s, string ports = "")
    {
        var created = new DateTime(r.Created, DateTimeKind.Utc);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("Command", Command(r, truncate: false));
            w.WriteString("CreatedAt", created.ToString("yyyy-MM-dd HH:mm:ss '+0000 UTC'", CultureInfo.InvariantCulture));
            w.WriteString("ID", r.Id[..12]);
            w.WriteString("Image", r.Image);
            w.WriteString("Labels", string.Join(',', RunOptionsJson.Read(r.Options).Labels));
            w.WriteString("Mounts", string.Join(',', (ResolvedConfig.Parse(r.Resolved)?.Mounts ?? []).Select(m => m.Name ?? m.Source)));
            w.WriteString("Names", r.Name);
            w.WriteString("Networks", RunOptionsJson.Read(r.Options).Network);
            w.WriteString("Ports", ports);
            w.WriteString("RunningFor", HumanDuration(DateTime.UtcNow - created) + " ago");
            w.WriteString("State", ContainerStates.Name(s));
            w.WriteString("Status", Status(r, s));
            w.WriteEndObject();
        });
    }

    /// <summary>One element of <c>inspect</c>'s array.</summary>
    public static void Inspect(Utf8JsonWriter w, ContainerService svc, ContainerRow r, ContainerState s)
    {
        var o = RunOptionsJson.Read(r.Options);
        var res = ResolvedConfig.Parse(r.Resolved);
        var dir = svc.Paths.Dir(r.Id);
        w.WriteStartObject();
        w.WriteString("Id", r.Id);
        w.WriteString("Created", Time(r.Created));
        w.WriteString("Path", res?.Args.FirstOrDefault() ?? "");
        Strings(w, "Args", res?.Args.Skip(1) ?? []);
        w.WriteStartObject("State");
        w.WriteString("Status", ContainerStates.Name(s));
        w.WriteBoolean("Running", s is ContainerState.Running or ContainerState.Paused);
        w.WriteBoolean("Paused", s == ContainerState.Paused);
        w.WriteBoolean("Restarting", s == ContainerState.Restarting);
        w.WriteBoolean("OOMKilled", r.OomKilled);
        w.WriteBoolean("Dead", s == ContainerState.Dead);
        w.WriteNumber("Pid", ContainerStates.IsActive(s) ? r.Pid : 0);
        w.WriteNumber("ExitCode", r.ExitCode);
        w.WriteString("Error", r.Error ?? "");
        w.WriteString("StartedAt", Time(r.StartedAt));
        w.WriteString("FinishedAt", Time(r.FinishedAt));
        w.WriteEndObject();
        w.WriteString("Image", r.ImageId);
        w.WriteString("ResolvConfPath", svc.Paths.ResolvConfFile(r.Id));
        w.WriteString("HostnamePath", svc.Paths.HostnameFile(r.Id));
        w.WriteString("HostsPath", svc.Paths.HostsFile(r.Id));
        w.WriteString("LogPath", svc.Paths.Log(r.Id));
        w.WriteString("Name", "/" + r.Name);
        w.WriteNumber("RestartCount", r.RestartCount);
        w.WriteString("Driver", r.Driver);
        w.WriteString("Platform", "linux");
        w.WriteStartObject("HostConfig");
        Strings(w, "Binds", o.Volumes.Where(v => v.StartsWith('/') && v.IndexOf(':') > 0));
        w.WriteString("NetworkMode", o.Network);
        w.WriteStartObject("RestartPolicy");
        var policy = o.Restart.Split(':');
        w.WriteString("Name", policy[0]);
        w.WriteNumber("MaximumRetryCount", policy.Length > 1 && int.TryParse(policy[1], CultureInfo.InvariantCulture, out var n) ? n : 0);
        w.WriteEndObject();
        w.WriteBoolean("AutoRemove", o.AutoRemove);
        w.WriteBoolean("ReadonlyRootfs", o.ReadOnly);
        w.WriteBoolean("Privileged", o.Privileged);
        w.WriteString("UsernsRemap", o.UsernsRemap ?? ""); // MiniDock's: Docker's remap is daemon-wide, not in HostConfig
        if (o.SecurityOpts.Count > 0)
        {
            Strings(w, "SecurityOpt", o.SecurityOpts);
        }
        else
        {
            w.WriteNull("SecurityOpt");
        }

        w.WriteBoolean("Init", o.Init);
        w.WriteNumber("Memory", o.Memory ?? 0);
        w.WriteNumber("NanoCpus", (long)((o.Cpus ?? 0) * 1e9));
        ResourceViews.WriteHostConfig(w, o);
        if (o.PidsLimit is { } pl)
        {
            w.WriteNumber("PidsLimit", pl);
        }
        else
        {
            w.WriteNull("PidsLimit");
        }

        Strings(w, "Ulimits", o.Ulimits);
        WritePortBindings(w, o);
        w.WriteEndObject();
        WriteNetworkSettings(w, svc, r, o);
        w.WriteStartObject("GraphDriver");
        w.WriteString("Name", r.Driver);
        w.WriteStartObject("Data");
        if (r.Driver == "overlay")
        {
            w.WriteString("LowerDir", string.Join(':', SafeLowers(svc, r).Reverse()));
            w.WriteString("UpperDir", Path.Combine(dir, "upper"));
            w.WriteString("WorkDir", Path.Combine(dir, "work"));
        }

        w.WriteString("MergedDir", svc.SnapshotterOf(r).RootfsPath(dir));
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartArray("Mounts");
        foreach (var m in res?.Mounts ?? [])
        {
            w.WriteStartObject();
            w.WriteString("Type", m.Type);
            if (m.Name is not null)
            {
                w.WriteString("Name", m.Name);
            }

            w.WriteString("Source", m.Source);
            w.WriteString("Destination", m.Destination);
            w.WriteString("Mode", m.ReadWrite ? "" : "ro");
            w.WriteBoolean("RW", m.ReadWrite);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("Config");
        w.WriteString("Hostname", res?.Hostname ?? r.Id[..12]);
        w.WriteString("User", o.User ?? "");
        w.WriteBoolean("AttachStdin", o.Interactive && !o.Detach);
        w.WriteBoolean("Tty", o.Tty);
        w.WriteBoolean("OpenStdin", o.Interactive);
        Strings(w, "Env", res?.Env ?? [.. ImageEnv(svc, r), .. o.Env.Where(e => e.Contains('='))]);
        Strings(w, "Cmd", o.Args);
        w.WriteString("Image", r.Image);
        w.WriteString("WorkingDir", o.WorkDir ?? res?.Cwd ?? "");
        if (o.Entrypoint is { } ep)
        {
            Strings(w, "Entrypoint", ep.Length == 0 ? [] : [ep]);
        }
        else
        {
            w.WriteNull("Entrypoint");
        }

        // Docker's merge: the image's labels, then --label over them.
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (k, v) in svc.ImageConfigOf(r).Labels)
            {
                labels[k] = v;
            }
        }
        catch (MiniDock.Containers.Config.ContainerException)
        {
            // The image is gone: only the container's own labels are known.
        }

        foreach (var l in o.Labels)
        {
            var eq = l.IndexOf('=');
            labels[eq < 0 ? l : l[..eq]] = eq < 0 ? "" : l[(eq + 1)..];
        }

        // Docker's Config.ExposedPorts: the image's, --expose's and every -p's container port.
        var exposed = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            exposed.UnionWith(svc.ImageConfigOf(r).ExposedPorts);
        }
        catch (MiniDock.Containers.Config.ContainerException)
        {
        }

        exposed.UnionWith(o.Expose.SelectMany(MiniDock.Containers.Networks.PortSpec.ParseExpose));
        exposed.UnionWith(o.Publish.SelectMany(MiniDock.Containers.Networks.PortSpec.Parse).Select(m => m.Key));
        if (exposed.Count > 0)
        {
            w.WriteStartObject("ExposedPorts");
            foreach (var k in exposed)
            {
                w.WriteStartObject(k);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteStartObject("Labels");
        foreach (var (k, v) in labels)
        {
            w.WriteString(k, v);
        }

        w.WriteEndObject();
        w.WriteString("StopSignal", res?.StopSignal ?? o.StopSignal ?? "SIGTERM");
        w.WriteNumber("StopTimeout", res?.StopTimeout ?? o.StopTimeout ?? 10);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>ps's PORTS column: what the running container has published.</summary>
    public static string Ports(ContainerService svc, ContainerRow r)
        => MiniDock.Containers.Networks.PortSpec.PsColumn(svc.Net.EndpointsOf(r.Id).SelectMany(e => MiniDock.Containers.Networks.PortSpec.FromJson(e.Ports)));

    /// <summary>HostConfig.PortBindings: the <c>-p</c> requests as given (a random port is "").</summary>
    private static void WritePortBindings(Utf8JsonWriter w, MiniDock.Containers.Config.RunOptions o)
    {
        w.WriteStartObject("PortBindings");
        foreach (var g in o.Publish.SelectMany(MiniDock.Containers.Networks.PortSpec.Parse).GroupBy(m => m.Key))
        {
            w.WriteStartArray(g.Key);
            foreach (var m in g)
            {
                w.WriteStartObject();
                w.WriteString("HostIp", m.HostIp);
                w.WriteString("HostPort", m.HostPort == 0 ? "" : m.HostPort.ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        w.WriteBoolean("PublishAllPorts", o.PublishAll);
    }

    /// <summary>Docker's NetworkSettings: the address, gateway, MAC and published ports of the current run (empty when stopped).</summary>
    private static void WriteNetworkSettings(Utf8JsonWriter w, ContainerService svc, ContainerRow r, MiniDock.Containers.Config.RunOptions o)
    {
        var endpoints = svc.Net.EndpointsOf(r.Id);
        var first = endpoints.FirstOrDefault();
        var networks = svc.Net.List().ToDictionary(n => n.Id, n => n);
        w.WriteStartObject("NetworkSettings");
        w.WriteString("SandboxKey", first is null ? "" : Path.Combine(svc.Paths.Dir(r.Id), "netns"));
        w.WriteStartObject("Ports");
        foreach (var g in endpoints.SelectMany(e => MiniDock.Containers.Networks.PortSpec.FromJson(e.Ports)).GroupBy(m => m.Key))
        {
            w.WriteStartArray(g.Key);
            foreach (var m in g)
            {
                w.WriteStartObject();
                w.WriteString("HostIp", m.HostIp.Length == 0 ? "0.0.0.0" : m.HostIp);
                w.WriteString("HostPort", m.HostPort.ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
        WriteAddress(w, first, first is null ? null : networks.GetValueOrDefault(first.NetworkId));
        w.WriteStartObject("Networks");
        if (endpoints.Count == 0 && o.Network is "none" or "host" or "bridge")
        {
            w.WriteStartObject(o.Network);
            WriteAddress(w, null, null);
            w.WriteEndObject();
        }

        foreach (var e in endpoints)
        {
            var n = networks.GetValueOrDefault(e.NetworkId);
            w.WriteStartObject(n?.Name ?? e.NetworkId);
            w.WriteString("NetworkID", e.NetworkId);
            Strings(w, "Aliases", e.Aliases.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            WriteAddress(w, e, n);
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteAddress(Utf8JsonWriter w, EndpointRow? e, NetworkRow? n)
    {
        var cidr = e?.Address.Split('/') ?? ["", "0"];
        w.WriteString("Gateway", e is null ? "" : n?.Gateway ?? "");
        w.WriteString("IPAddress", cidr[0]);
        w.WriteNumber("IPPrefixLen", cidr.Length > 1 && int.TryParse(cidr[1], CultureInfo.InvariantCulture, out var len) ? len : 0);
        w.WriteString("MacAddress", e?.Mac ?? "");
    }

    public static string Json(Action<Utf8JsonWriter> body, bool indented = false)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>A never-started container has no resolved environment yet: show the image's, as Docker does.</summary>
    private static IReadOnlyList<string> ImageEnv(ContainerService svc, ContainerRow r)
    {
        try
        {
            return svc.ImageConfigOf(r).Env;
        }
        catch (Containers.Config.ContainerException)
        {
            return [];
        }
    }

    private static IEnumerable<string> SafeLowers(ContainerService svc, ContainerRow r)
    {
        try
        {
            return svc.LowerDirs(r);
        }
        catch (Containers.Config.ContainerException)
        {
            return [];
        }
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> items)
    {
        w.WriteStartArray(name);
        foreach (var s in items)
        {
            w.WriteStringValue(s);
        }

        w.WriteEndArray();
    }
}
