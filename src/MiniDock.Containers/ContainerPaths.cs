using MiniDock.Images;

namespace MiniDock.Containers;

/// <summary>
/// Where one container's files live: <c>DATA/containers/&lt;id&gt;/</c> holds its bundle (config.json, hostname,
/// hosts, resolv.conf), its snapshot (upper, work, merged) and its json log; its attach socket is under the run dir
/// (a socket path must stay under 108 bytes, so it is named by the first 16 hex digits).
/// </summary>
public sealed class ContainerPaths(DataRoot root)
{
    public DataRoot Root { get; } = root;

    public string ContainersDir => Path.Combine(Root.Data, "containers");

    public string Dir(string id) => Path.Combine(ContainersDir, id);

    public string Log(string id) => Path.Combine(Dir(id), id + "-json.log");

    public string AttachSocket(string id) => Path.Combine(Root.Run, "attach", id[..16] + ".sock");

    public string HostsFile(string id) => Path.Combine(Dir(id), "hosts");

    public string HostnameFile(string id) => Path.Combine(Dir(id), "hostname");

    public string ResolvConfFile(string id) => Path.Combine(Dir(id), "resolv.conf");
}
