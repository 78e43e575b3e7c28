namespace MiniDock.Native;

/// <summary>capget/capset (v3, 64-bit sets) and the prctl calls for the bounding and ambient sets. All per-thread.</summary>
public static unsafe class Caps
{
    private const uint Version3 = 0x20080522;

    public static int LastCap()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 40;
        }
    }

    public static void Set(ulong effective, ulong permitted, ulong inheritable)
    {
        var hdr = stackalloc uint[2];
        hdr[0] = Version3;
        hdr[1] = 0;
        var data = stackalloc uint[6];
        data[0] = (uint)effective;
        data[1] = (uint)permitted;
        data[2] = (uint)inheritable;
        data[3] = (uint)(effective >> 32);
        data[4] = (uint)(permitted >> 32);
        data[5] = (uint)(inheritable >> 32);
        Sys.Check(Libc.syscall(SysNo.Capset, (nint)hdr, (nint)data, 0, 0, 0, 0), "capset");
    }

    /// <summary>This thread's bounding set (prctl CAP_BSET_READ for each capability up to <paramref name="lastCap"/>).</summary>
    public static ulong Bounding(int lastCap)
    {
        ulong set = 0;
        for (var c = 0; c <= lastCap; c++)
        {
            if (Libc.prctl(Prctl.CapBsetRead, (nuint)c, 0, 0, 0) == 1)
            {
                set |= 1UL << c;
            }
        }

        return set;
    }

    /// <summary>Drops every capability not in <paramref name="keep"/> from this thread's bounding set.</summary>
    public static void LimitBounding(ulong keep, int lastCap)
    {
        for (var c = 0; c <= lastCap; c++)
        {
            if ((keep & (1UL << c)) == 0)
            {
                Sys.Prctl(Prctl.CapBsetDrop, (nuint)c, 0, $"drop capability {c} from the bounding set");
            }
        }
    }

    public static void SetAmbient(ulong ambient, int lastCap)
    {
        Libc.prctl(Prctl.CapAmbient, Prctl.CapAmbientClearAll, 0, 0, 0);
        for (var c = 0; c <= lastCap; c++)
        {
            if ((ambient & (1UL << c)) != 0)
            {
                Sys.Check(Libc.prctl(Prctl.CapAmbient, Prctl.CapAmbientRaise, (nuint)c, 0, 0), $"raise ambient capability {c}");
            }
        }
    }
}
