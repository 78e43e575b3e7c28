namespace MiniDock.Native;

/// <summary>
/// The one network setting MiniDock makes itself: the loopback interface of a new network namespace comes up
/// down, and Docker's <c>--network none</c> gives a container a working 127.0.0.1 (what CNI's loopback plugin does).
/// SIOCSIFFLAGS on an AF_INET socket, no netlink needed (netdevice(7)).
/// </summary>
public static unsafe class NetLink
{
    private const int AfInet = 2;
    private const int SockDgram = 2;
    private const nuint SiocGifFlags = 0x8913;
    private const nuint SiocSifFlags = 0x8914;
    private const short IffUp = 0x1;
    private const short IffRunning = 0x40;

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
}
