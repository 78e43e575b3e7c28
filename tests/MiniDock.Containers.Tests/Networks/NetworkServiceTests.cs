using System.Text.Json.Nodes;
using MiniDock.Containers.Config;
using MiniDock.Containers.Networks;
using MiniDock.Containers.Store;
using MiniDock.Images;

namespace MiniDock.Containers.Tests.Networks;

/// <summary><c>network create/ls/rm</c> and lookups over a real container database; no CNI, no root.</summary>
public sealed class NetworkServiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-net-").FullName;
    private readonly ContainerDb _db;
    private readonly NetworkService _net;

    public NetworkServiceTests()
    {
        _db = new ContainerDb(Path.Combine(_dir, "data"));
        _net = new NetworkService(new DataRoot(Path.Combine(_dir, "data"), Path.Combine(_dir, "run")), _db);
    }

    public void Dispose()
    {
        _db.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static string Error(Action a) => Assert.Throws<ContainerException>(a).Message;

    private static EndpointRow Endpoint(string networkId, string containerId, string address = "10.78.0.2/24")
        => new() { NetworkId = networkId, ContainerId = containerId, ContainerName = "c", Address = address, Mac = "02:42:0a:4e:00:02" };

    [Fact]
    public void Bridge_host_and_none_are_built_in()
    {
        var all = _net.List();
        Assert.Equal(["bridge", "host", "none"], all.Select(n => n.Name).ToList());
        Assert.Equal(["bridge", "host", "null"], all.Select(n => n.Driver).ToList());
        Assert.All(all, n =>
        {
            Assert.Equal(1, n.Builtin);
            Assert.Equal(64, n.Id.Length);
            Assert.True(n.Id.All(char.IsAsciiHexDigitLower), n.Id);
            Assert.False(n.EmbeddedDns);
            Assert.InRange(new DateTime(n.Created, DateTimeKind.Utc), DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
        });
        Assert.Equal(3, all.Select(n => n.Id).Distinct().Count());

        var bridge = all[0];
        Assert.Equal(("10.77.0.0/16", "10.77.0.1", "minidock0", 0), (bridge.Subnet, bridge.Gateway, bridge.Bridge, bridge.Internal));
        Assert.Equal(("", "", ""), (all[1].Subnet, all[1].Gateway, all[1].Bridge));
    }

    [Fact]
    public void Create_chooses_a_free_slash_24_with_its_first_host_as_gateway()
    {
        var n = _net.Create("app", null, null, null, false, ["a=b", "flag"]);
        var s = Subnets.Parse(n.Subnet);
        Assert.Equal(24, s.Prefix);
        Assert.False(s.Overlaps(Subnets.Parse("10.77.0.0/16")));
        Assert.DoesNotContain(Subnets.Routes(), r => r.Overlaps(s));
        Assert.True(s.Network >= Subnets.ToUint(System.Net.IPAddress.Parse("10.78.0.0")), n.Subnet);
        Assert.Equal(Subnets.Choose([Subnets.Parse("10.77.0.0/16")], Subnets.Routes()), s);
        Assert.Equal(Subnets.Text(s.Network + 1), n.Gateway);

        Assert.Equal("app", n.Name);
        Assert.Equal("bridge", n.Driver);
        Assert.Equal(64, n.Id.Length);
        Assert.True(n.Id.All(char.IsAsciiHexDigitLower), n.Id);
        Assert.Equal("mdbr-" + n.Id[..10], n.Bridge);
        Assert.True(n.Bridge.Length <= 15, n.Bridge);
        Assert.Equal((0, 0), (n.Internal, n.Builtin));
        Assert.True(n.EmbeddedDns);
        var labels = JsonNode.Parse(n.Labels)!.AsObject();
        Assert.Equal("b", (string)labels["a"]!);
        Assert.Equal("", (string)labels["flag"]!);
        Assert.Equal(2, labels.Count);

        // What was returned is what was stored.
        var stored = _net.Require("app");
        Assert.Equal((n.Id, n.Subnet, n.Gateway, n.Bridge, n.Labels, n.Created), (stored.Id, stored.Subnet, stored.Gateway, stored.Bridge, stored.Labels, stored.Created));
    }

    [Fact]
    public void A_second_network_gets_another_subnet_and_bridge()
    {
        var a = _net.Create("one", null, null, null, false, []);
        var b = _net.Create("two", "bridge", null, null, false, []);
        Assert.NotEqual(a.Subnet, b.Subnet);
        Assert.False(Subnets.Parse(a.Subnet).Overlaps(Subnets.Parse(b.Subnet)));
        Assert.NotEqual(a.Bridge, b.Bridge);
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal("{}", a.Labels);
    }

    [Fact]
    public void An_explicit_subnet_gateway_and_internal_are_kept()
    {
        var n = _net.Create("backend", "", "172.30.0.0/16", "172.30.0.254", true, []);
        Assert.Equal(("172.30.0.0/16", "172.30.0.254", 1), (n.Subnet, n.Gateway, n.Internal));
    }

    [Fact]
    public void An_explicit_subnet_overlapping_another_network_is_refused()
    {
        Assert.Contains("overlaps", Error(() => _net.Create("x", null, "10.77.5.0/24", null, false, [])), StringComparison.Ordinal);
        _net.Create("y", null, "172.30.0.0/24", null, false, []);
        Assert.Contains("overlaps", Error(() => _net.Create("z", null, "172.30.0.0/16", null, false, [])), StringComparison.Ordinal);
        Assert.Null(_db.FindNetwork("x"));
        Assert.Null(_db.FindNetwork("z"));
    }

    [Fact]
    public void An_automatic_subnet_avoids_an_explicit_one()
    {
        var first = Subnets.Choose([Subnets.Parse("10.77.0.0/16")], Subnets.Routes());
        _net.Create("taken", null, first.ToString(), null, false, []);
        var n = _net.Create("auto", null, null, null, false, []);
        Assert.NotEqual(first.ToString(), n.Subnet);
        Assert.False(first.Overlaps(Subnets.Parse(n.Subnet)));
    }

    [Fact]
    public void The_same_name_twice_is_refused()
    {
        _net.Create("app", null, null, null, false, []);
        Assert.Equal("network with name app already exists", Error(() => _net.Create("app", null, null, null, false, [])));
        Assert.Contains("already exists", Error(() => _net.Create("bridge", null, null, null, false, [])), StringComparison.Ordinal);
        Assert.Single(_net.List(), n => n.Name == "app");
    }

    [Theory]
    [InlineData("-x")]
    [InlineData("a b")]
    [InlineData("")]
    [InlineData(".dot")]
    [InlineData("a/b")]
    public void Bad_names_are_refused(string name)
        => Assert.StartsWith($"invalid network name \"{name}\"", Error(() => _net.Create(name, null, null, null, false, [])), StringComparison.Ordinal);

    [Theory]
    [InlineData("a")]
    [InlineData("my_net.v2-x")]
    [InlineData("9lives")]
    public void Good_names_are_taken(string name)
        => Assert.Equal(name, _net.Create(name, null, null, null, false, []).Name);

    [Fact]
    public void Another_driver_is_refused()
        => Assert.Equal("plugin \"macvlan\" not found: only the bridge driver is supported", Error(() => _net.Create("m", "macvlan", null, null, false, [])));

    [Fact]
    public void A_gateway_without_a_subnet_is_refused()
        => Assert.Contains("a gateway needs a --subnet", Error(() => _net.Create("g", null, null, "10.78.0.1", false, [])), StringComparison.Ordinal);

    [Fact]
    public void A_bad_subnet_or_gateway_creates_nothing()
    {
        Assert.Contains("it should be 10.80.0.0/24", Error(() => _net.Create("s", null, "10.80.0.1/24", null, false, [])), StringComparison.Ordinal);
        Assert.Contains("not a host address", Error(() => _net.Create("s", null, "10.80.0.0/24", "10.81.0.1", false, [])), StringComparison.Ordinal);
        Assert.Null(_db.FindNetwork("s"));
    }

    [Fact]
    public void Require_by_name_full_id_and_unique_prefix()
    {
        var n = _net.Create("app", null, null, null, false, []);
        Assert.Equal(n.Id, _net.Require("app").Id);
        Assert.Equal(n.Id, _net.Require(n.Id).Id);
        Assert.Equal(n.Id, _net.Require(n.Id[..12]).Id);
        Assert.Equal("bridge", _net.Require("bridge").Name);
        Assert.Equal("network nope not found", Error(() => _net.Require("nope")));
        Assert.Equal("network  not found", Error(() => _net.Require("")));
        Assert.Equal($"network {n.Id.ToUpperInvariant()[..12]} not found", Error(() => _net.Require(n.Id.ToUpperInvariant()[..12])));
    }

    [Fact]
    public void A_name_wins_over_an_id_prefix_and_an_ambiguous_prefix_is_an_error()
    {
        _db.InsertNetwork(new NetworkRow { Id = "abc1" + new string('0', 60), Name = "first", Subnet = "172.31.1.0/24", Gateway = "172.31.1.1", Bridge = "mdbr-abc1000000" });
        _db.InsertNetwork(new NetworkRow { Id = "abc2" + new string('0', 60), Name = "abc", Subnet = "172.31.2.0/24", Gateway = "172.31.2.1", Bridge = "mdbr-abc2000000" });
        Assert.Equal("abc", _net.Require("abc").Name);
        Assert.Equal("first", _net.Require("abc1").Name);
        Assert.Equal("network ab is ambiguous (2 matches found based on ID prefix)", Error(() => _net.Require("ab")));
    }

    [Fact]
    public void Built_in_networks_cannot_be_removed()
    {
        foreach (var name in new[] { "bridge", "host", "none" })
        {
            Assert.Equal($"{name} is a pre-defined network and cannot be removed", Error(() => _net.Remove(_net.Require(name))));
        }

        Assert.Equal(3, _net.List().Count);
    }

    [Fact]
    public void A_network_with_endpoints_is_kept_until_they_are_gone()
    {
        var n = _net.Create("app", null, null, null, false, []);
        Directory.CreateDirectory(_net.Dir); // as after any attach (see Remove_on_a_fresh_data_root_... for without it)
        var cid = new string('c', 64);
        _db.UpsertEndpoint(Endpoint(n.Id, cid));
        Assert.Equal($"error while removing network: network app id {n.Id} has active endpoints", Error(() => _net.Remove(n)));
        Assert.NotNull(_db.FindNetwork("app"));

        _db.DeleteEndpoints(cid);
        _net.Remove(n);
        Assert.Null(_db.FindNetwork("app"));
        Assert.DoesNotContain(_net.List(), x => x.Name == "app");
        Assert.Equal(3, _net.List().Count);
    }

    /// <summary><c>network create app; network rm app</c> on a data root where no container was ever attached (no networks/ dir).</summary>
    [Fact]
    public void Remove_on_a_fresh_data_root_without_a_networks_dir()
    {
        var n = _net.Create("app", null, null, null, false, []);
        Assert.False(Directory.Exists(_net.Dir));
        _net.Remove(n);
        Assert.Null(_db.FindNetwork("app"));
    }

    [Fact]
    public void Remove_deletes_the_networks_files()
    {
        var n = _net.Create("app", null, null, null, false, []);
        Directory.CreateDirectory(Path.Combine(_net.Dir, n.Id));
        File.WriteAllText(_net.NamesFile(n), "# names\n");
        File.WriteAllText(Path.Combine(_net.Dir, "app.conflist"), "{}");
        var other = _net.Create("other", null, null, null, false, []);
        File.WriteAllText(Path.Combine(_net.Dir, "other.conflist"), "{}");

        _net.Remove(n);
        Assert.False(Directory.Exists(Path.Combine(_net.Dir, n.Id)));
        Assert.False(File.Exists(Path.Combine(_net.Dir, "app.conflist")));
        Assert.True(File.Exists(Path.Combine(_net.Dir, "other.conflist")));
        Assert.NotNull(_db.FindNetwork(other.Id));
    }

    [Fact]
    public void Endpoints_are_kept_per_network_and_container()
    {
        var a = _net.Create("a", null, null, null, false, []);
        var b = _net.Create("b", null, null, null, false, []);
        var c1 = new string('1', 64);
        var c2 = new string('2', 64);
        _db.UpsertEndpoint(Endpoint(a.Id, c1));
        _db.UpsertEndpoint(Endpoint(b.Id, c1, "10.78.1.2/24"));
        _db.UpsertEndpoint(Endpoint(a.Id, c2, "10.78.0.3/24"));

        // Upsert: the same (network, container) again replaces its row.
        _db.UpsertEndpoint(Endpoint(a.Id, c2, "10.78.0.9/24"));

        Assert.Equal(3, _db.Endpoints().Count);
        Assert.Equal(["10.78.0.2/24", "10.78.0.9/24"], _db.Endpoints(a.Id).Select(e => e.Address).Order().ToList());
        Assert.Equal(2, _net.EndpointsOf(c1).Count);
        Assert.Equal("[]", _db.EndpointsOf(c2).Single().Ports);
        _db.DeleteEndpoints(c1);
        Assert.Empty(_net.EndpointsOf(c1));
        Assert.Single(_db.Endpoints());
    }

    [Fact]
    public void Deleting_a_container_deletes_its_endpoints()
    {
        var bridge = _net.Require("bridge");
        var gone = new string('d', 64);
        var stays = new string('e', 64);
        _db.Insert(new ContainerRow { Id = gone, Name = "gone", Image = "img", ImageId = "sha256:x", Options = "{}", State = "created", Driver = "vfs" });
        _db.UpsertEndpoint(Endpoint(bridge.Id, gone, "10.77.0.2/16"));
        _db.UpsertEndpoint(Endpoint(bridge.Id, stays, "10.77.0.3/16"));

        _db.Delete(gone);
        Assert.Null(_db.Get(gone));
        Assert.Empty(_db.EndpointsOf(gone));
        Assert.Single(_db.EndpointsOf(stays));
    }

    [Fact]
    public void Detach_with_nothing_recorded_is_nothing_to_do()
    {
        var state = Path.Combine(_dir, "network.json");
        _net.Detach(new string('f', 64), state);
        Assert.False(File.Exists(state));
    }

    [Fact]
    public void PinnedNetns_of_a_missing_torn_or_unpinned_record_is_null()
    {
        var state = Path.Combine(_dir, "network.json");
        Assert.Null(NetworkService.PinnedNetns(state));
        File.WriteAllText(state, "{\"netns\":");
        Assert.Null(NetworkService.PinnedNetns(state));
        File.WriteAllText(state, $$"""{"netns":"{{Path.Combine(_dir, "not-a-netns")}}"}""");
        Assert.Null(NetworkService.PinnedNetns(state));
    }
}

/// <summary>A database from before networks (schema version 1) gains them on open.</summary>
public sealed class ContainerDbNetworkSchemaTests : IDisposable
{
    private const string V1Containers = """
        CREATE TABLE containers(
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            image TEXT NOT NULL,
            image_id TEXT NOT NULL,
            created INTEGER NOT NULL,
            options TEXT NOT NULL,
            resolved TEXT,
            state TEXT NOT NULL,
            pid INTEGER NOT NULL DEFAULT 0,
            pid_start INTEGER NOT NULL DEFAULT 0,
            monitor_pid INTEGER NOT NULL DEFAULT 0,
            monitor_start INTEGER NOT NULL DEFAULT 0,
            exit_code INTEGER NOT NULL DEFAULT 0,
            oom_killed INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            started_at INTEGER NOT NULL DEFAULT 0,
            finished_at INTEGER NOT NULL DEFAULT 0,
            restart_count INTEGER NOT NULL DEFAULT 0,
            stopped_by_user INTEGER NOT NULL DEFAULT 0,
            driver TEXT NOT NULL)
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("minidock-db-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DbPath => Path.Combine(_dir, "containers.db");

    private List<string> Tables()
    {
        using var c = new SQLite.SQLiteConnection(DbPath);
        return c.QueryScalars<string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    }

    private long UserVersion()
    {
        using var c = new SQLite.SQLiteConnection(DbPath);
        return c.ExecuteScalar<long>("PRAGMA user_version");
    }

    [Fact]
    public void A_version_1_database_is_upgraded_on_open_and_keeps_its_containers()
    {
        var id = new string('a', 64);
        using (var c = new SQLite.SQLiteConnection(DbPath))
        {
            c.Execute(V1Containers);
            c.Execute(
                "INSERT INTO containers(id, name, image, image_id, created, options, state, driver) VALUES (?, 'old', 'alpine', 'sha256:1', 1, '{}', 'exited', 'vfs')", id);
            c.Execute("PRAGMA user_version = 1");
        }

        Assert.Equal(["containers"], Tables());
        Assert.Equal(1, UserVersion());

        using (var db = new ContainerDb(_dir))
        {
            Assert.Equal(["bridge", "host", "none"], db.AllNetworks().Select(n => n.Name).ToList());
            Assert.Empty(db.Endpoints());
            Assert.Equal("old", db.Get(id)!.Name);
            db.UpsertEndpoint(new EndpointRow { NetworkId = db.FindNetwork("bridge")!.Id, ContainerId = id, ContainerName = "old", Address = "10.77.0.2/16", Mac = "02:42:0a:4d:00:02" });
            db.Delete(id);
            Assert.Empty(db.Endpoints());
        }

        Assert.Equal(["containers", "endpoints", "networks"], Tables());
        Assert.Equal(2, UserVersion());
    }

    [Fact]
    public void Reopening_keeps_the_built_in_ids()
    {
        List<string> first;
        using (var db = new ContainerDb(_dir))
        {
            first = [.. db.AllNetworks().Select(n => n.Id)];
        }

        using (var db = new ContainerDb(_dir))
        {
            Assert.Equal(first, db.AllNetworks().Select(n => n.Id).ToList());
        }

        Assert.Equal(2, UserVersion());
    }
}
