namespace MiniDock.Containers.Config;

/// <summary>
/// What the container layer decided about a container's network before its bundle is built: the namespace to
/// join (a bridge network's pinned one, or another container's for <c>container:NAME</c>) and what the
/// container's /etc files must say about it.
/// </summary>
public sealed class NetworkPlan
{
    /// <summary>The network namespace the container joins (config.json's namespace path).</summary>
    public required string NamespacePath { get; init; }

    /// <summary>The container's own IPv4 address: /etc/hosts gets "ADDRESS HOSTNAME", as Docker writes it.</summary>
    public string? Address { get; init; }

    /// <summary>The embedded DNS (a user-defined network's gateway): the only nameserver in resolv.conf.</summary>
    public string? EmbeddedDns { get; init; }

    /// <summary><c>container:NAME</c>: that container's bundle dir, whose hostname, hosts and resolv.conf are used.</summary>
    public string? SharedEtcDir { get; init; }
}
