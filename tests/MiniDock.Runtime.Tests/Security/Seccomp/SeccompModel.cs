using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Security.Seccomp;

/// <summary>
/// The decision a profile makes, computed directly from the spec with no BPF: the oracle the
/// compiled programs are compared with. Deliberately naive (walks the list every time).
/// </summary>
public static class SeccompModel
{
    public static uint Decide(SeccompSpec spec, SeccompData d)
    {
        var defaultAction = BpfCompiler.Action(spec.DefaultAction, spec.DefaultErrnoRet);
        var archs = spec.Architectures ?? [];
        var foreign = defaultAction is BpfCompiler.RetAllow or BpfCompiler.RetLog ? BpfCompiler.RetErrno | 38 : defaultAction;
        if (d.Arch != BpfCompiler.AuditArchX86_64)
        {
            return d.Arch == BpfCompiler.AuditArchI386 && archs.Contains("SCMP_ARCH_X86") ? foreign : BpfCompiler.RetKillProcess;
        }

        if ((uint)d.Nr >= 0x40000000 && d.Nr != -1)
        {
            return archs.Contains("SCMP_ARCH_X32") ? foreign : BpfCompiler.RetKillProcess;
        }

        foreach (var call in spec.Syscalls ?? [])
        {
            var named = call.Names.Any(n => SyscallTable.TryGetNumber(n, out var nr) && nr == d.Nr);
            if (!named)
            {
                continue;
            }

            var args = call.Args ?? [];
            var repeated = args.GroupBy(a => a.Index).Any(g => g.Count() > 1);
            var matches = repeated ? args.Any(a => Holds(a, d)) : args.All(a => Holds(a, d));
            if (matches)
            {
                return BpfCompiler.Action(call.Action, call.ErrnoRet);
            }
        }

        return defaultAction;
    }

    public static bool Holds(SeccompArg a, SeccompData d)
    {
        var v = d.Args[a.Index];
        return a.Op switch
        {
            "SCMP_CMP_NE" => v != a.Value,
            "SCMP_CMP_LT" => v < a.Value,
            "SCMP_CMP_LE" => v <= a.Value,
            "SCMP_CMP_EQ" => v == a.Value,
            "SCMP_CMP_GE" => v >= a.Value,
            "SCMP_CMP_GT" => v > a.Value,
            "SCMP_CMP_MASKED_EQ" => (v & a.Value) == a.ValueTwo,
            _ => throw new InvalidOperationException(a.Op),
        };
    }
}
