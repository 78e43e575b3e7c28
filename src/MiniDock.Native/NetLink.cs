namespace MiniDock.Native;

/// <summary>
/// The few network settings MiniDock makes itself; everything else is CNI's plugins. The loopback interface of a new
/// network namespace comes up down, and Docker's <c>--network none</c> gives a container a working 127.0.0.1 (what
/// CNI's loopback plugin does): SIOCSIFFLAGS on an AF_INET socket (netdevice(7)). A network's bridge, which CNI's
/// bridge plugin creates but never removes, is deleted with one RTM_DELLINK message (rtnetlink(7)).
/// </summary>
public static unsafe class NetLink
{
    private const int AfInet = 2;
    private const int AfNetlink = 16;
    private const int SockDgram = 2;
    private const int SockRaw = 3;
    private const int NetlinkRoute = 0;
    private const nuint SiocGifFlags = 0x8913;
    private const nuint SiocSifFlags = 0x8914;
    private const short IffUp = 0x1;
    private const short IffRunning = 0x40;
    private const ushort RtmDelLink = 17;
    private const ushort NlmsgError = 2;
    private const ushort NlmFRequest = 1;
    private const ushort NlmFAck = 4;

    /// <summary>Sets <c>lo</c> up in the network namespace of the calling thread.</summary>
    public static void LoopbackUp()
    {
        var s = Sys.Check(Libc.socket(AfInet, SockDgram | Consts.SockCloExec, 0), "socket AF_INET");
        try
        {
            // struct ifreq: char ifr_name[16], then a union whose first member here is short ifr_flags.
            var ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            ifr[0] = (byte)'l';
            ifr[1] = (byte)'o';
            Sys.Check(Libc.ioctl(s, SiocGifFlags, ifr), "ioctl SIOCGIFFLAGS lo");
            *(short*)(ifr + 16) |= IffUp | IffRunning;
            Sys.Check(Libc.ioctl(s, SiocSifFlags, ifr), "ioctl SIOCSIFFLAGS lo");
        }
        finally
        {
            Sys.Close(s);
        }
    }

    /// <summary>True when an interface of that name exists in the calling thread's network namespace.</summary>
    public static bool LinkExists(string name) => Libc.if_nametoindex(name) != 0;

    /// <summary>
    /// Deletes the interface <paramref name="name"/> (a bridge: its ports are released, the veths stay with their
    /// containers); false when there is none.
    /// </summary>
    public static bool DeleteLink(string name)
    {
        var index = Libc.if_nametoindex(name);
        if (index == 0)
        {
            return false;
        }

        var s = Sys.Check(Libc.socket(AfNetlink, SockRaw | Consts.SockCloExec, NetlinkRoute), "socket AF_NETLINK");
        try
        {
            // struct nlmsghdr (16 bytes) + struct ifinfomsg (16 bytes): the link is named by its index.
            var msg = stackalloc byte[32];
            new Span<byte>(msg, 32).Clear();
            *(uint*)msg = 32;
            *(ushort*)(msg + 4) = RtmDelLink;
            *(ushort*)(msg + 6) = NlmFRequest | NlmFAck;
            *(uint*)(msg + 8) = 1;
            *(int*)(msg + 20) = (int)index;
            Sys.WriteAll(s, new ReadOnlySpan<byte>(msg, 32));

            var reply = new byte[4096];
            var n = Sys.Read(s, reply);
            fixed (byte* r = reply)
            {
                if (n >= 20 && *(ushort*)(r + 4) == NlmsgError && *(int*)(r + 16) is var err and < 0)
                {
                    if (-err == 19 /* ENODEV: gone meanwhile */)
                    {
                        return false;
                    }

                    throw new SysException($"delete link {name}", -err);
                }
            }

            return true;
        }
        finally
        {
            Sys.Close(s);
        }
    }
}
