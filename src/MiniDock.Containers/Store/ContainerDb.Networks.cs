namespace MiniDock.Containers.Store;

/// <summary>Networks and their endpoints live in the container database: a container's removal and its endpoint's go together.</summary>
public sealed partial class ContainerDb
{
    /// <summary>A new user-defined network; a taken name is Docker's conflict error.</summary>
    public void InsertNetwork(NetworkRow row)
    {
        Write(() =>
        {
            if (_db.QueryScalars<string>("SELECT id FROM networks WHERE name = ?", row.Name).Count > 0)
            {
                throw new Config.ContainerException($"network with name {row.Name} already exists");
            }

            _db.Insert(row, typeof(NetworkRow));
            return 0;
        });
    }

    /// <summary>Docker's lookup: full ID, exact name, then a unique ID prefix.</summary>
    public NetworkRow? FindNetwork(string text)
        => Lookup<NetworkRow>("networks", text, (s, count) => $"network {s} is ambiguous ({count} matches found based on ID prefix)");

    /// <summary>Every network, built-in first, then by name.</summary>
    public IReadOnlyList<NetworkRow> AllNetworks()
    {
        lock (_gate)
        {
            return _db.Query<NetworkRow>("SELECT * FROM networks ORDER BY builtin DESC, name");
        }
    }

    public void DeleteNetwork(string id) => Write(() => _db.Execute("DELETE FROM networks WHERE id = ? AND builtin = 0", id));

    public void UpsertEndpoint(EndpointRow row) => Write(() => _db.InsertOrReplace(row, typeof(EndpointRow)));

    public void DeleteEndpoints(string containerId) => Write(() => _db.Execute("DELETE FROM endpoints WHERE container_id = ?", containerId));

    /// <summary>Endpoints of one network (null: of all networks).</summary>
    public IReadOnlyList<EndpointRow> Endpoints(string? networkId = null)
    {
        lock (_gate)
        {
            return networkId is null
                ? _db.Query<EndpointRow>("SELECT * FROM endpoints")
                : _db.Query<EndpointRow>("SELECT * FROM endpoints WHERE network_id = ?", networkId);
        }
    }

    /// <summary>The endpoints of one container (one per network it is on).</summary>
    public IReadOnlyList<EndpointRow> EndpointsOf(string containerId)
    {
        lock (_gate)
        {
            return _db.Query<EndpointRow>("SELECT * FROM endpoints WHERE container_id = ?", containerId);
        }
    }
}
