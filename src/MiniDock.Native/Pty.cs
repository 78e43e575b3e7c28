using System.Text;

namespace MiniDock.Native;

/// <summary>Pseudo-terminals: open a master, find its slave, size it, and put a tty in raw mode.</summary>
public static unsafe class Pty
{
    /// <summary>Opens <paramref name="ptmx"/> (the container's /dev/ptmx, so the slave lives in its devpts) and unlocks it.</summary>
    public static (int Master, string SlavePath) Open(string ptmx = "/dev/ptmx")
    {
        var master = Sys.Open(ptmx, OpenFlags.RdWr | OpenFlags.NoCtty);
        Sys.Check(Libc.unlockpt(master), "unlockpt");
        var buf = stackalloc byte[128];
        var rc = Libc.ptsname_r(master, buf, 128);
        if (rc != 0)
        {
            throw new SysException("ptsname", rc);
        }

        var len = 0;
        while (buf[len] != 0)
        {
            len++;
        }

        return (master, Encoding.UTF8.GetString(buf, len));
    }

    public static void SetSize(int fd, ushort rows, ushort cols)
    {
        var ws = stackalloc ushort[4];
        ws[0] = rows;
        ws[1] = cols;
        ws[2] = 0;
        ws[3] = 0;
        Sys.Check(Libc.ioctl(fd, Consts.TiocSwinsz, ws), "ioctl TIOCSWINSZ");
    }

    public static bool TryGetSize(int fd, out ushort rows, out ushort cols)
    {
        var ws = stackalloc ushort[4];
        if (Libc.ioctl(fd, Consts.TiocGwinsz, ws) < 0)
        {
            rows = cols = 0;
            return false;
        }

        rows = ws[0];
        cols = ws[1];
        return true;
    }

    public static void SetControllingTerminal(int fd) => Sys.Check(Libc.ioctl(fd, Consts.TiocSctty, null), "ioctl TIOCSCTTY");

    /// <summary>
    /// A new session whose controlling terminal is <paramref name="slavePath"/>, which becomes stdin, stdout and
    /// stderr: what a container process started with <c>process.terminal</c> gets (runtime-spec config.md#process).
    /// </summary>
    public static void BecomeSessionOn(string slavePath)
    {
        Libc.setsid();
        var s = Sys.Open(slavePath, OpenFlags.RdWr);
        SetControllingTerminal(s);
        for (var i = 0; i < 3; i++)
        {
            Libc.dup2(s, i);
        }

        Sys.Close(s);
    }

    /// <summary>Puts <paramref name="fd"/> in raw mode; returns the old settings to restore.</summary>
    public static byte[]? MakeRaw(int fd)
    {
        var old = new byte[64];
        fixed (byte* o = old)
        {
            if (Libc.tcgetattr(fd, o) < 0)
            {
                return null;
            }

            var raw = stackalloc byte[64];
            new Span<byte>(o, 64).CopyTo(new Span<byte>(raw, 64));
            Libc.cfmakeraw(raw);
            Libc.tcsetattr(fd, 0, raw);
        }

        return old;
    }

    public static void Restore(int fd, byte[]? saved)
    {
        if (saved is null)
        {
            return;
        }

        fixed (byte* o = saved)
        {
            Libc.tcsetattr(fd, 0, o);
        }
    }
}
