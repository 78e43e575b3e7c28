using System.Text;

namespace MiniDock.Containers.Networks;

/// <summary>
/// Docker's isolation between bridge networks (moby's DOCKER-ISOLATION-STAGE-1/2): a packet that leaves one
/// MiniDock bridge for another is dropped, so containers on different networks cannot reach each other (CNI's
/// bridge plugin only NATs and forwards). Stage 1 has one rule per bridge ("in on B, out on something else"), stage
/// 2 drops what goes out on any MiniDock bridge; the jump to stage 1 is FORWARD's first rule, ahead of the firewall
/// plugin's accepts. The chains go with the last bridge.
/// </summary>
public static class Isolation
{
    public const string Stage1 = "MINIDOCK-ISOLATION-1";
    public const string Stage2 = "MINIDOCK-ISOLATION-2";
    private const string Jump = "-A FORWARD -j " + Stage1;

    /// <summary>Adds (or, with <paramref name="add"/> false, removes) bridge <paramref name="bridge"/>.</summary>
    public static void Update(string bridge, bool add)
    {
        if (Iptables.Find() is not { } ipt)
        {
            return;
        }

        var table = ipt.Save("filter");
        var bridges = (table.Rules(Stage1) ?? []).Select(BridgeOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
        if (!(add ? bridges.Add(bridge) : bridges.Remove(bridge)) && table.Rules(Stage1) is not null)
        {
            return;
        }

        ipt.Restore(Rules(bridges, table.Has("FORWARD", Jump), table.Rules(Stage1) is not null));
    }

    /// <summary>The restore text that makes the chains hold exactly <paramref name="bridges"/> (none: the chains go).</summary>
    internal static string Rules(IReadOnlyCollection<string> bridges, bool jumpExists, bool chainsExist)
    {
        var sb = new StringBuilder("*filter\n");
        if (bridges.Count == 0)
        {
            if (!chainsExist)
            {
                return sb.Append("COMMIT\n").ToString();
            }

            sb.Append(':').Append(Stage1).Append(" - [0:0]\n").Append(':').Append(Stage2).Append(" - [0:0]\n");
            if (jumpExists)
            {
                sb.Append("-D FORWARD -j ").Append(Stage1).Append('\n');
            }

            return sb.Append("-X ").Append(Stage1).Append("\n-X ").Append(Stage2).Append("\nCOMMIT\n").ToString();
        }

        // Declaring a chain with --noflush empties it: both are rewritten whole.
        sb.Append(':').Append(Stage1).Append(" - [0:0]\n").Append(':').Append(Stage2).Append(" - [0:0]\n");
        if (!jumpExists)
        {
            sb.Append("-I FORWARD 1 -j ").Append(Stage1).Append('\n');
        }

        foreach (var b in bridges.Order(StringComparer.Ordinal))
        {
            sb.Append("-A ").Append(Stage1).Append(" -i ").Append(b).Append(" ! -o ").Append(b).Append(" -j ").Append(Stage2).Append('\n');
        }

        sb.Append("-A ").Append(Stage2).Append(" -o mdbr+ -j DROP\n");
        sb.Append("-A ").Append(Stage2).Append(" -o minidock0 -j DROP\n");
        return sb.Append("COMMIT\n").ToString();
    }

    /// <summary>"-A MINIDOCK-ISOLATION-1 -i B ! -o B -j MINIDOCK-ISOLATION-2" → B.</summary>
    internal static string? BridgeOf(string rule)
    {
        var f = rule.Split(' ');
        var i = Array.IndexOf(f, "-i");
        return i > 0 && i + 1 < f.Length ? f[i + 1] : null;
    }
}
