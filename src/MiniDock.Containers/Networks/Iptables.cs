using System.Diagnostics;

namespace MiniDock.Containers.Networks;

/// <summary>
/// The iptables rules MiniDock reads and writes itself (CNI's plugins write their own): one <c>iptables-save</c> to
/// read a table, one <c>iptables-restore --noflush</c> to apply a batch, so each change costs two short execs
/// whatever its size. Debian's iptables (nft backend) is what the CNI plugins use too.
/// </summary>
public sealed class Iptables
{
    private readonly string _save;
    private readonly string _restore;

    private Iptables(string save, string restore)
    {
        _save = save;
        _restore = restore;
    }

    /// <summary>Null where iptables is not installed (then there is nothing of ours to keep either).</summary>
    public static Iptables? Find()
    {
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin" })
        {
            if (File.Exists(Path.Combine(dir, "iptables-save")) && File.Exists(Path.Combine(dir, "iptables-restore")))
            {
                return new Iptables(Path.Combine(dir, "iptables-save"), Path.Combine(dir, "iptables-restore"));
            }
        }

        return null;
    }

    /// <summary>One table as <c>iptables-save -t TABLE</c> prints it.</summary>
    public Table Save(string table) => new(Exec(_save, null, "-t", table).Output);

    /// <summary>Applies <paramref name="rules"/> (restore syntax, with its *TABLE and COMMIT lines) without flushing the rest.</summary>
    public void Restore(string rules)
    {
        var (rc, _, err) = Exec(_restore, rules, "-w", "--noflush");
        if (rc != 0)
        {
            throw new Config.ContainerException($"iptables-restore: {err.Trim().ReplaceLineEndings(" ")}");
        }
    }

    private static (int Rc, string Output, string Error) Exec(string file, string? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.GetAwaiter().GetResult());
    }

    /// <summary>A saved table: its chains and each chain's rules as <c>-A CHAIN ...</c> lines.</summary>
    public sealed class Table
    {
        private readonly Dictionary<string, List<string>> _rules = new(StringComparer.Ordinal);

        public Table(string saved)
        {
            foreach (var line in saved.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith(':'))
                {
                    _rules.TryAdd(line[1..].Split(' ')[0], []);
                }
                else if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    var chain = line[3..].Split(' ')[0];
                    if (!_rules.TryGetValue(chain, out var list))
                    {
                        _rules[chain] = list = [];
                    }

                    list.Add(line);
                }
            }
        }

        /// <summary>The chain's rules; null when the chain does not exist.</summary>
        public IReadOnlyList<string>? Rules(string chain) => _rules.TryGetValue(chain, out var r) ? r : null;

        public bool Has(string chain, string rule) => Rules(chain)?.Contains(rule, StringComparer.Ordinal) == true;
    }
}
