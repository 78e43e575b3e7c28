using System.Text;
using System.Text.Json.Nodes;
using MiniDock.Containers.Config;
using MiniDock.Containers.Networks.Cni;
using MiniDock.Containers.Store;
using MiniDock.Images;
using MiniDock.Native;

namespace MiniDock.Containers.Networks;

/// <summary>A container's place on a bridge network once CNI's ADD is done.</summary>
public sealed record Attachment(NetworkRow Network, string NetnsPath, string Address, int PrefixLength, string Gateway, string Mac, IReadOnlyList<PortMapping> Ports);

/// <summary>
/// Networks as a user sees them (<c>network create/ls/rm/inspect</c>) and a container's attachment to one: a
/// pinned network namespace (<see cref="NetNs"/>), CNI's ADD of the network's plugins in order, DEL in reverse,
/// with the result of the ADD as prevResult (the CNI spec's rule for DEL), the bridge deleted with its last address
/// and ip_forward restored with the namespace's last (<see cref="NetState"/>).
/// </summary>
/// <remarks>
/// What was asked of the plugins is written to the container's <c>network.json</c> before the first ADD, and its
/// result after the last: a teardown after a crash at any point knows what to undo, and DEL is repeatable.
/// </remarks>
public sealed class NetworkService(DataRoot root, ContainerDb db)
{
    public const string IfName = "eth0";

    /// <summary>Docker's rule for network names.</summary>
    private static readonly System.Text.RegularExpressions.Regex NamePattern = new("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public string Dir => Path.Combine(root.Data, "networks");

    public ContainerDb Db => db;

    /// <summary>Docker's "network X not found" lookup by name, ID or unique ID prefix.</summary>
    public NetworkRow Require(string text) => db.FindNetwork(text) ?? throw new ContainerException($"network {text} not found");

    public IReadOnlyList<NetworkRow> List() => db.AllNetworks();

    /// <summary><c>network create</c>: a bridge network with its own subnet (given, or the first free /24 from 10.78.0.0).</summary>
    public NetworkRow Create(string name, string? driver, string? subnet, string? gateway, bool isInternal, IReadOnlyList<string> labels)
    {
        if (!NamePattern.IsMatch(name))
        {
            throw new ContainerException($"invalid network name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        }

        if (driver is not (null or "" or "bridge"))
        {
            throw new ContainerException($"plugin \"{driver}\" not found: only the bridge driver is supported");
        }

        if (string.IsNullOrEmpty(subnet) && !string.IsNullOrEmpty(gateway))
        {
            throw new ContainerException("invalid network config: a gateway needs a --subnet");
        }

        var existing = db.AllNetworks().Where(n => n.Subnet.Length > 0).Select(n => Subnets.Parse(n.Subnet)).ToList();
        Subnet s;
        if (!string.IsNullOrEmpty(subnet))
        {
            s = Subnets.Parse(subnet);
            if (existing.Any(e => e.Overlaps(s)))
            {
                throw new ContainerException($"invalid pool request: Pool overlaps with other one on this address space ({s})");
            }
        }
        else
        {
            s = Subnets.Choose(existing, Subnets.Routes());
        }

        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var row = new NetworkRow
        {
            Id = id,
            Name = name,
            Driver = "bridge",
            Subnet = s.ToString(),
            Gateway = Subnets.Gateway(s, gateway),
            Bridge = "mdbr-" + id[..10],
            Created = DateTime.UtcNow.Ticks,
            Labels = LabelsJson(labels),
            Internal = isInternal ? 1 : 0,
        };
        db.InsertNetwork(row);
        return row;
    }

    /// <summary><c>network rm</c>: never a built-in one, never one with containers on it.</summary>
    public void Remove(NetworkRow n)
    {
        if (n.Builtin == 1)
        {
            throw new ContainerException($"{n.Name} is a pre-defined network and cannot be removed");
        }

        if (db.Endpoints(n.Id).Count > 0)
        {
            throw new ContainerException($"error while removing network: network {n.Name} id {n.Id} has active endpoints");
        }

        db.DeleteNetwork(n.Id);
        var dir = Path.Combine(Dir, n.Id);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        if (Directory.Exists(Dir))
        {
            File.Delete(Path.Combine(Dir, n.Name + ".conflist"));
        }
    }

    /// <summary>
    /// Puts the container on <paramref name="n"/>: new pinned namespace at <paramref name="netnsPath"/>, ADD of each
    /// plugin, the endpoint recorded (and, on a user-defined network, its names given to the embedded DNS).
    /// On failure everything done so far is undone and the error is one line.
    /// </summary>
    public Attachment Attach(ContainerRow c, NetworkRow n, IReadOnlyList<PortMapping> wanted, IReadOnlyList<string> aliases, string stateFile, string netnsPath)
    {
        if (n.Driver != "bridge")
        {
            throw new ContainerException($"network {n.Name}: driver {n.Driver} has no endpoints");
        }

        using var st = NetState.Lock();
        var inUse = new HashSet<(string, int, string)>();
        foreach (var e in db.Endpoints())
        {
            foreach (var p in PortSpec.FromJson(e.Ports))
            {
                inUse.Add((p.HostIp, p.HostPort, p.Protocol));
            }
        }

        var ports = PortAllocator.Assign(wanted, inUse);
        var conf = BridgeConfList.Build(n, st.IpamDir, ports.Count > 0);
        SaveConfList(n, conf);
        var plugins = BridgeConfList.PluginConfigs(conf, ports);
        CniPlugins.Find("bridge");
        st.RememberIpForward();

        var record = new JsonObject
        {
            ["network"] = n.Id,
            ["cniName"] = BridgeConfList.CniName(n),
            ["netns"] = netnsPath,
            ["ifName"] = IfName,
            ["plugins"] = new JsonArray([.. plugins]),
            ["ports"] = PortSpec.ToJson(ports),
        };
        WriteAtomic(stateFile, record.ToJsonString());
        try
        {
            NetNs.CreatePinned(netnsPath);
            var newBridge = !NetLink.LinkExists(n.Bridge);
            JsonObject? result = null;
            foreach (var p in plugins)
            {
                var cfg = p.DeepClone().AsObject();
                if (result is not null)
                {
                    cfg["prevResult"] = result.DeepClone();
                }

                result = CniInvoker.Invoke("ADD", cfg, c.Id, netnsPath, IfName) ?? result;
            }

            record["result"] = result?.DeepClone();
            WriteAtomic(stateFile, record.ToJsonString());
            if (newBridge)
            {
                Isolation.Update(n.Bridge, add: true);
            }

            var a = Read(n, netnsPath, result, ports);
            db.UpsertEndpoint(new EndpointRow
            {
                NetworkId = n.Id,
                ContainerId = c.Id,
                ContainerName = c.Name,
                Address = $"{a.Address}/{a.PrefixLength}",
                Mac = a.Mac,
                Ports = PortSpec.ToJson(ports),
                Aliases = string.Join(' ', aliases),
            });
            if (n.EmbeddedDns)
            {
                WriteNames(n);
                DnsLauncher.Ensure(n, NamesFile(n));
            }

            return a;
        }
        catch (Exception e)
        {
            DetachLocked(st, c.Id, stateFile);
            throw e as ContainerException ?? new ContainerException($"network {n.Name}: {e.Message}");
        }
    }

    /// <summary>Takes the container off its network (repeatable; nothing recorded is nothing to do).</summary>
    public void Detach(string containerId, string stateFile)
    {
        if (!File.Exists(stateFile) && db.EndpointsOf(containerId).Count == 0)
        {
            return;
        }

        using var st = NetState.Lock();
        DetachLocked(st, containerId, stateFile);
    }

    /// <summary>The endpoints of a running container (empty when it is not on a bridge network).</summary>
    public IReadOnlyList<EndpointRow> EndpointsOf(string containerId) => db.EndpointsOf(containerId);

    /// <summary>The container's pinned namespace, when it has one now (for <c>--network container:NAME</c>).</summary>
    public static string? PinnedNetns(string stateFile)
    {
        try
        {
            return File.Exists(stateFile) && JsonNode.Parse(File.ReadAllText(stateFile)) is JsonObject r && (string?)r["netns"] is { } p && NetNs.IsPinned(p) ? p : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public string NamesFile(NetworkRow n) => Path.Combine(Dir, n.Id, "names");

    private void DetachLocked(NetState st, string containerId, string stateFile)
    {
        JsonObject? record = null;
        try
        {
            record = File.Exists(stateFile) ? JsonNode.Parse(File.ReadAllText(stateFile)) as JsonObject : null;
        }
        catch (System.Text.Json.JsonException)
        {
            // Torn by a crash mid-write (written by rename, so not expected): nothing to replay.
        }

        if (record is not null)
        {
            var netns = (string?)record["netns"] ?? "";
            var ifName = (string?)record["ifName"] ?? IfName;
            var pinned = NetNs.IsPinned(netns);
            var result = record["result"] as JsonObject;
            foreach (var p in (record["plugins"] as JsonArray ?? []).Reverse())
            {
                if (p is not JsonObject plugin)
                {
                    continue;
                }

                var cfg = plugin.DeepClone().AsObject();
                if (result is not null)
                {
                    cfg["prevResult"] = result.DeepClone();
                }

                try
                {
                    // An unpinned path (a crash before the pin) is given as "": the plugins then release what they hold outside it.
                    CniInvoker.Invoke("DEL", cfg, containerId, pinned ? netns : "", ifName);
                }
                catch (ContainerException)
                {
                    // DEL must not stop the rest of the teardown; what a plugin could not remove, the next DEL retries
                    // only if the record stays, and a container that is gone cannot keep it: best effort, as CNI runtimes do.
                }
            }

            NetNs.Unpin(netns);
        }

        File.Delete(stateFile);
        var networkId = (string?)record?["network"];
        var cniName = (string?)record?["cniName"];
        var endpoints = db.EndpointsOf(containerId);
        db.DeleteEndpoints(containerId);
        foreach (var id in endpoints.Select(e => e.NetworkId).Append(networkId).Distinct())
        {
            if (id is null || db.FindNetwork(id) is not { } n)
            {
                continue;
            }

            if (n.EmbeddedDns)
            {
                if (db.Endpoints(n.Id).Count > 0)
                {
                    WriteNames(n);
                }
                else
                {
                    File.Delete(NamesFile(n));
                    DnsLauncher.Stop(n, NamesFile(n));
                }
            }

            var name = cniName ?? BridgeConfList.CniName(n);
            if (st.Allocations(name) == 0)
            {
                NetLink.DeleteLink(n.Bridge);
                st.DropIpam(name);
                Isolation.Update(n.Bridge, add: false);
            }
        }

        st.ReleaseIfUnused(CniChains.RemoveIfUnused);
    }

    /// <summary>Address, gateway and MAC of the container's interface from the ADD result (CNI result format 1.0).</summary>
    private static Attachment Read(NetworkRow n, string netns, JsonObject? result, IReadOnlyList<PortMapping> ports)
    {
        var ip = (result?["ips"] as JsonArray)?.FirstOrDefault() as JsonObject ?? throw new ContainerException($"network {n.Name}: the bridge plugin returned no address");
        var cidr = (string?)ip["address"] ?? "";
        var slash = cidr.IndexOf('/');
        var mac = "";
        if (ip["interface"] is JsonValue iv && iv.TryGetValue(out int index) && result!["interfaces"] is JsonArray ifs && index < ifs.Count && ifs[index] is JsonObject iface)
        {
            mac = (string?)iface["mac"] ?? "";
        }

        return new Attachment(n, netns, slash > 0 ? cidr[..slash] : cidr, slash > 0 ? int.Parse(cidr[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture) : 32, (string?)ip["gateway"] ?? n.Gateway, mac, ports);
    }

    /// <summary>The embedded DNS's table: each container on the network by name, short ID and aliases.</summary>
    private void WriteNames(NetworkRow n)
    {
        var sb = new StringBuilder("# written by minidock: containers on network ").Append(n.Name).Append('\n');
        foreach (var e in db.Endpoints(n.Id))
        {
            var ip = e.Address.Split('/')[0];
            sb.Append(ip).Append(' ').Append(e.ContainerName).Append(' ').Append(e.ContainerId[..12]);
            if (e.Aliases.Length > 0)
            {
                sb.Append(' ').Append(e.Aliases);
            }

            sb.Append('\n');
        }

        Directory.CreateDirectory(Path.Combine(Dir, n.Id));
        WriteAtomic(NamesFile(n), sb.ToString());
    }

    /// <summary>The configuration list as the plugins get it, kept where a user (or cnitool) can read it.</summary>
    private void SaveConfList(NetworkRow n, JsonObject conf)
    {
        Directory.CreateDirectory(Dir);
        var path = Path.Combine(Dir, n.Name + ".conflist");
        var text = conf.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (!File.Exists(path) || File.ReadAllText(path) != text)
        {
            WriteAtomic(path, text);
        }
    }

    private static string LabelsJson(IReadOnlyList<string> labels)
    {
        var o = new JsonObject();
        foreach (var l in labels)
        {
            var i = l.IndexOf('=');
            o[i < 0 ? l : l[..i]] = i < 0 ? "" : l[(i + 1)..];
        }

        return o.ToJsonString();
    }

    private static void WriteAtomic(string path, string text)
    {
        var tmp = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
