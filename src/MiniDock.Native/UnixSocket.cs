using System.Text;

namespace MiniDock.Native;

/// <summary>
/// AF_UNIX helpers: connect to a path, and pass an fd with SCM_RIGHTS. The OCI console socket
/// protocol (runc's --console-socket) is exactly that: the pty master sent with the pty's path as payload.
/// </summary>
public static unsafe class UnixSocket
{
    public static int Connect(string path)
    {
        var fd = Sys.Check(Libc.socket(Consts.AfUnix, Consts.SockStream | Consts.SockCloExec, 0), "socket");
        var addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        addr[0] = (byte)Consts.AfUnix;
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length > 107)
        {
            Sys.Close(fd);
            throw new ArgumentException($"socket path too long: {path}");
        }

        bytes.CopyTo(new Span<byte>(addr + 2, 108));
        if (Libc.connect(fd, addr, (uint)(2 + bytes.Length + 1)) < 0)
        {
            var e = Sys.Errno;
            Sys.Close(fd);
            throw new SysException($"connect {path}", e);
        }

        return fd;
    }

    public static void SendFd(int sock, int fdToSend, string payload)
    {
        var data = Encoding.UTF8.GetBytes(payload);
        var control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        *(ulong*)control = 20; // CMSG_LEN(sizeof(int))
        *(int*)(control + 8) = Consts.SolSocket;
        *(int*)(control + 12) = Consts.ScmRights;
        *(int*)(control + 16) = fdToSend;
        fixed (byte* d = data)
        {
            var iov = stackalloc nint[2];
            iov[0] = (nint)d;
            iov[1] = data.Length;
            var msg = stackalloc byte[56];
            new Span<byte>(msg, 56).Clear();
            *(nint*)(msg + 16) = (nint)iov;
            *(ulong*)(msg + 24) = 1;
            *(nint*)(msg + 32) = (nint)control;
            *(ulong*)(msg + 40) = 24;
            if (Libc.sendmsg(sock, msg, 0) < 0)
            {
                throw new SysException("sendmsg (console socket)", Sys.Errno);
            }
        }
    }

    /// <summary>Receives one fd sent with SCM_RIGHTS; returns -1 if the message carried none.</summary>
    public static int ReceiveFd(int sock, out string payload)
    {
        var buf = stackalloc byte[4096];
        var control = stackalloc byte[24];
        new Span<byte>(control, 24).Clear();
        var iov = stackalloc nint[2];
        iov[0] = (nint)buf;
        iov[1] = 4096;
        var msg = stackalloc byte[56];
        new Span<byte>(msg, 56).Clear();
        *(nint*)(msg + 16) = (nint)iov;
        *(ulong*)(msg + 24) = 1;
        *(nint*)(msg + 32) = (nint)control;
        *(ulong*)(msg + 40) = 24;
        var n = Libc.recvmsg(sock, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
        if (n < 0)
        {
            throw new SysException("recvmsg", Sys.Errno);
        }

        payload = Encoding.UTF8.GetString(buf, (int)n);
        if (*(ulong*)(msg + 40) >= 20 && *(int*)(control + 12) == Consts.ScmRights)
        {
            return *(int*)(control + 16);
        }

        return -1;
    }
}
