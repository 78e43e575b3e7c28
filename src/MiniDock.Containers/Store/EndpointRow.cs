using SQLite;

namespace MiniDock.Containers.Store;

/// <summary>
/// One row of <c>endpoints</c>: a running container's place on a network (its address, MAC and published ports).
/// Written after CNI's ADD, deleted after its DEL; <c>network rm</c> refuses while a network has any, the embedded
/// DNS answers from them, and published host ports are checked against them.
/// </summary>
[Table("endpoints")]
public sealed class EndpointRow
{
    [Column("network_id")]
    public string NetworkId { get; set; } = "";

    [Column("container_id")]
    public string ContainerId { get; set; } = "";

    [Column("container_name")]
    public string ContainerName { get; set; } = "";

    /// <summary>IPv4 address with its prefix, e.g. 10.77.0.2/16.</summary>
    [Column("address")]
    public string Address { get; set; } = "";

    [Column("mac")]
    public string Mac { get; set; } = "";

    /// <summary>Published ports as JSON (<see cref="Networks.PortSpec.ToJson"/>).</summary>
    [Column("ports")]
    public string Ports { get; set; } = "[]";

    /// <summary><c>--network-alias</c> names, space-separated: the embedded DNS answers them too.</summary>
    [Column("aliases")]
    public string Aliases { get; set; } = "";
}
