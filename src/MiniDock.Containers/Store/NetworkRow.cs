using SQLite;

namespace MiniDock.Containers.Store;

/// <summary>
/// One row of <c>networks</c>: a network as <c>network ls/inspect</c> show it. The built-in <c>bridge</c>, <c>host</c>
/// and <c>none</c> exist from the database's creation, as in Docker; user-defined ones are bridges too. The CNI
/// configuration list MiniDock hands to the plugins is derived from this row (<see cref="Networks.BridgeConfList"/>).
/// </summary>
/// <remarks>A plain mutable class because sqlite-net-pcl maps rows by property setters.</remarks>
[Table("networks")]
public sealed class NetworkRow
{
    [PrimaryKey, Column("id")]
    public string Id { get; set; } = "";

    [Column("name")]
    public string Name { get; set; } = "";

    /// <summary>"bridge", "host" or "null" (Docker's driver names).</summary>
    [Column("driver")]
    public string Driver { get; set; } = "bridge";

    /// <summary>IPv4 CIDR, e.g. 10.78.0.0/24; empty for host and none.</summary>
    [Column("subnet")]
    public string Subnet { get; set; } = "";

    [Column("gateway")]
    public string Gateway { get; set; } = "";

    /// <summary>The Linux bridge device (at most 15 characters).</summary>
    [Column("bridge")]
    public string Bridge { get; set; } = "";

    /// <summary>Creation time, UTC ticks.</summary>
    [Column("created")]
    public long Created { get; set; }

    /// <summary>Labels as JSON object text.</summary>
    [Column("labels")]
    public string Labels { get; set; } = "{}";

    /// <summary>1 for --internal: no masquerade, no default route out.</summary>
    [Column("internal")]
    public int Internal { get; set; }

    /// <summary>1 for bridge, host and none: never removed.</summary>
    [Column("builtin")]
    public int Builtin { get; set; }

    /// <summary>Docker gives name resolution between containers only on user-defined networks.</summary>
    [Ignore]
    public bool EmbeddedDns => Builtin == 0 && Driver == "bridge";
}
