namespace MiniDock.Containers.Networks;

/// <summary>
/// One published port, as Docker keeps it per container port in <c>HostConfig.PortBindings</c>
/// (<c>"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]</c>), flattened to one record per binding so that
/// the CNI portmap plugin, <c>docker port</c> and <c>docker ps</c> can each read the same list.
/// </summary>
/// <param name="HostIp">The host address to publish on; <c>""</c> means every address, which Docker shows as
/// <c>0.0.0.0</c> (its binding has an empty HostIp until the daemon fills the default in).</param>
/// <param name="HostPort">The host port; 0 means "choose one" (<c>-p 80</c>, <c>-p 127.0.0.1::80</c>, <c>-P</c>):
/// Docker leaves HostPort empty and the daemon's port allocator picks one from the ephemeral range at start
/// (see <see cref="PortAllocator"/>).</param>
/// <param name="ContainerPort">The port inside the container, 1..65535.</param>
/// <param name="Protocol"><c>tcp</c>, <c>udp</c> or <c>sctp</c>, lower case, as Docker's <c>nat.Port</c> keys are.</param>
public sealed record PortMapping(string HostIp, int HostPort, int ContainerPort, string Protocol)
{
    /// <summary>
    /// Docker's <c>-p 8000-8010:80</c>: a host range for a single container port does not publish eleven ports,
    /// it lets the daemon pick one free host port from that range. Such a mapping has <see cref="HostPort"/> 0
    /// (still to choose) and this range; <see cref="PortAllocator.Assign"/> picks the first free port in it.
    /// Null for every other mapping.
    /// </summary>
    public (int First, int Last)? HostRange { get; init; }

    /// <summary>The container side as Docker keys it (<c>nat.Port</c>): <c>80/tcp</c>.</summary>
    public string Key => $"{ContainerPort}/{Protocol}";
}
