using System.Text.Json.Nodes;
using MiniDock.Containers.Networks.Cni;
using MiniDock.Containers.Store;

namespace MiniDock.Containers.Networks;

/// <summary>
/// The CNI network configuration list of a MiniDock bridge network
/// (https://github.com/containernetworking/cni/blob/main/SPEC.md#section-1-network-configuration-format):
/// <list type="bullet">
/// <item><c>bridge</c> with <c>host-local</c> IPAM: the Linux bridge, a veth per container, the gateway address on the
/// bridge, masquerade of what leaves the subnet (not for <c>--internal</c>), and ip_forward;</item>
/// <item><c>portmap</c> (only when ports are published: it does nothing without them): DNAT from host ports, including
/// from the host's own 127.0.0.1 (<c>snat</c>);</item>
/// <item><c>firewall</c>: lets the container's traffic through a FORWARD chain whose policy is DROP.</item>
/// </list>
/// </summary>
public static class BridgeConfList
{
    /// <summary>
    /// The CNI name: host-local keeps its allocations under a directory of that name. The default bridge has one
    /// name for every data root (they share the device and its subnet in one network namespace); a user-defined
    /// network is named by its ID.
    /// </summary>
    public static string CniName(NetworkRow n) => n.Builtin == 1 ? "minidock-" + n.Name : "minidock-" + n.Id[..12];

    public static JsonObject Build(NetworkRow n, string ipamDir, bool withPorts)
    {
        var route = n.Internal == 1 ? new JsonArray() : new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" });
        var plugins = new JsonArray(
            new JsonObject
            {
                ["type"] = "bridge",
                ["bridge"] = n.Bridge,
                ["isGateway"] = true,
                ["ipMasq"] = n.Internal == 0,
                ["hairpinMode"] = true,
                ["ipam"] = new JsonObject
                {
                    ["type"] = "host-local",
                    ["dataDir"] = ipamDir,
                    ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = n.Subnet, ["gateway"] = n.Gateway })),
                    ["routes"] = route,
                },
            });
        if (withPorts)
        {
            plugins.Add((JsonNode)new JsonObject { ["type"] = "portmap", ["snat"] = true, ["capabilities"] = new JsonObject { ["portMappings"] = true } });
        }

        plugins.Add((JsonNode)new JsonObject { ["type"] = "firewall", ["backend"] = "iptables" });
        return new JsonObject { ["cniVersion"] = CniInvoker.Version, ["name"] = CniName(n), ["plugins"] = plugins };
    }

    /// <summary>
    /// Each plugin's own configuration as the spec's runtime derives it from the list: name and cniVersion copied
    /// in, and <c>runtimeConfig</c> for the capabilities the plugin declares (here portMappings).
    /// </summary>
    public static List<JsonObject> PluginConfigs(JsonObject confList, IReadOnlyList<PortMapping> ports)
    {
        var list = new List<JsonObject>();
        foreach (var p in confList["plugins"]!.AsArray())
        {
            var c = p!.DeepClone().AsObject();
            c["name"] = confList["name"]!.DeepClone();
            c["cniVersion"] = confList["cniVersion"]!.DeepClone();
            if (c["capabilities"] is JsonObject caps && caps["portMappings"] is JsonValue v && (bool)v)
            {
                var mappings = new JsonArray();
                foreach (var m in ports)
                {
                    mappings.Add((JsonNode)new JsonObject { ["hostPort"] = m.HostPort, ["containerPort"] = m.ContainerPort, ["protocol"] = m.Protocol, ["hostIP"] = m.HostIp });
                }

                c["runtimeConfig"] = new JsonObject { ["portMappings"] = mappings };
            }

            list.Add(c);
        }

        return list;
    }
}
