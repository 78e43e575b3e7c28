using System.Runtime.InteropServices;

namespace MiniDock.Native;

/// <summary>A failed system call: the operation, its argument and errno, in one readable line.</summary>
public sealed class SysException : Exception
{
    public SysException(string operation, int errno)
        : base($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)}")
    {
        Errno = errno;
        Operation = operation;
    }

    public int Errno { get; }

    public string Operation { get; }
}
