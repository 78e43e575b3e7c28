using MiniDock.Containers.Config;
using MiniDock.Containers.Networks;
using Cni = MiniDock.Containers.Networks.Cni;
using MiniDock.Containers.Store;
using MiniDock.Images;

namespace MiniDock.Containers;

/// <summary>A container's network for one run: attached before its bundle is built, detached with its other leftovers.</summary>
public sealed partial class ContainerService
{
    private NetworkService? _net;

    /// <summary>Networks and endpoints (<c>network</c> commands, ports, inspect).</summary>
    public NetworkService Net => _net ??= new NetworkService(root, db);

    /// <summary>What CNI was asked and answered for the container's current run (teardown replays it).</summary>
    public string NetworkStateFile(string id) => Path.Combine(Paths.Dir(id), "network.json");

    /// <summary>
    /// The port mappings a container asks for: its <c>-p</c> specs, and with <c>-P</c> every port the image exposes
    /// or <c>--expose</c> adds that no <c>-p</c> published already, on a random host port.
    /// </summary>
    public static IReadOnlyList<PortMapping> WantedPorts(RunOptions o, ImageConfig image)
    {
        var explicitOnes = o.Publish.SelectMany(PortSpec.Parse).ToList();
        if (!o.PublishAll)
        {
            return explicitOnes;
        }

        var exposed = image.ExposedPorts.Concat(o.Expose.SelectMany(PortSpec.ParseExpose));
        return PortSpec.Merge(explicitOnes, PortSpec.PublishAll(exposed));
    }

    /// <summary>
    /// The network part of a start: none and host need nothing here; <c>container:NAME</c> joins that running
    /// container's namespace and shares its /etc files; a bridge network gets a pinned namespace and CNI's ADD.
    /// </summary>
    private NetworkPlan? AttachNetwork(ContainerRow row, RunOptions o, ImageConfig image)
    {
        var mode = o.Network;
        if (mode is "" or "none" or "host")
        {
            return null;
        }

        if (mode.StartsWith("container:", StringComparison.Ordinal))
        {
            var other = Require(mode["container:".Length..]);
            if (other.Id == row.Id || Refresh(other) is not (ContainerState.Running or ContainerState.Paused))
            {
                throw new ContainerException($"cannot join network namespace of a non running container: {other.Name}");
            }

            var otherOptions = RunOptionsJson.Read(other.Options);
            if (otherOptions.Network == "host")
            {
                throw new ContainerException($"cannot join network namespace of container {other.Name}: it uses the host's network (use --network host)");
            }

            return new NetworkPlan
            {
                NamespacePath = NetworkService.PinnedNetns(NetworkStateFile(other.Id)) ?? $"/proc/{other.Pid}/ns/net",
                SharedEtcDir = Paths.Dir(other.Id),
            };
        }

        var n = Net.Require(mode);
        if (n.Driver != "bridge")
        {
            throw new ContainerException($"network {mode}: use --network {n.Name}");
        }

        var a = Net.Attach(row, n, WantedPorts(o, image), o.NetworkAliases, NetworkStateFile(row.Id), Path.Combine(Paths.Dir(row.Id), "netns"));
        return new NetworkPlan
        {
            NamespacePath = a.NetnsPath,
            Address = a.Address,
            EmbeddedDns = n.EmbeddedDns ? n.Gateway : null,
        };
    }

    /// <summary>
    /// At create, before anything is written: the network must exist (and its plugins be installed), and the
    /// container whose network is to be shared too.
    /// </summary>
    private void CheckNetworkAtCreate(RunOptions o)
    {
        if (o.Network is "" or "none" or "host")
        {
            return;
        }

        if (o.Network.StartsWith("container:", StringComparison.Ordinal))
        {
            Require(o.Network["container:".Length..]);
            return;
        }

        if (Net.Require(o.Network).Driver == "bridge")
        {
            Cni.CniPlugins.Find("bridge");
        }
    }

    /// <summary>Off its network, if it was on one (repeatable).</summary>
    private void DetachNetwork(string id) => Net.Detach(id, NetworkStateFile(id));
}
