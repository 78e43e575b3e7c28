namespace MiniDock.Native;

/// <summary>Namespace clone flags (clone(2), unshare(2)).</summary>
public static class Clone
{
    public const int NewNs = 0x00020000;
    public const int NewCgroup = 0x02000000;
    public const int NewUts = 0x04000000;
    public const int NewIpc = 0x08000000;
    public const int NewUser = 0x10000000;
    public const int NewPid = 0x20000000;
    public const int NewNet = 0x40000000;
    public const int NewTime = 0x00000080;
    public const int Fs = 0x00000200;
    public const int Files = 0x00000400;
}

/// <summary>mount(2) flags.</summary>
public static class MountFlags
{
    public const ulong RdOnly = 1;
    public const ulong NoSuid = 2;
    public const ulong NoDev = 4;
    public const ulong NoExec = 8;
    public const ulong Synchronous = 16;
    public const ulong Remount = 32;
    public const ulong Mandlock = 64;
    public const ulong DirSync = 128;
    public const ulong NoSymFollow = 256;
    public const ulong NoAtime = 1024;
    public const ulong NoDirAtime = 2048;
    public const ulong Bind = 4096;
    public const ulong Move = 8192;
    public const ulong Rec = 16384;
    public const ulong Silent = 32768;
    public const ulong Unbindable = 1 << 17;
    public const ulong Private = 1 << 18;
    public const ulong Slave = 1 << 19;
    public const ulong Shared = 1 << 20;
    public const ulong RelAtime = 1 << 21;
    public const ulong StrictAtime = 1 << 24;
    public const ulong LazyTime = 1 << 25;
    public const int MntDetach = 2;
}

/// <summary>open(2) flags (x86_64 values).</summary>
public static class OpenFlags
{
    public const int RdOnly = 0;
    public const int WrOnly = 1;
    public const int RdWr = 2;
    public const int Creat = 0x40;
    public const int Excl = 0x80;
    public const int NoCtty = 0x100;
    public const int Trunc = 0x200;
    public const int Append = 0x400;
    public const int NonBlock = 0x800;
    public const int Directory = 0x10000;
    public const int NoFollow = 0x20000;
    public const int CloExec = 0x80000;
    public const int Path = 0x200000;
}

/// <summary>openat2(2) resolve flags.</summary>
public static class Resolve
{
    public const ulong NoXdev = 0x01;
    public const ulong NoMagicLinks = 0x02;
    public const ulong NoSymlinks = 0x04;
    public const ulong Beneath = 0x08;
    public const ulong InRoot = 0x10;
}

/// <summary>x86_64 syscall numbers for the calls glibc does not wrap, or wraps process-wide.</summary>
public static class SysNo
{
    public const long RtSigaction = 13;
    public const long RtSigprocmask = 14;
    public const long Setresuid = 117;
    public const long Bpf = 321;
    public const long Setresgid = 119;
    public const long Setgroups = 116;
    public const long Capget = 125;
    public const long Capset = 126;
    public const long PivotRoot = 155;
    public const long Gettid = 186;
    public const long PidfdOpen = 434;
    public const long CloseRange = 436;
    public const long Openat2 = 437;
    public const long PidfdSendSignal = 424;
    public const long OpenTree = 428;
    public const long MoveMount = 429;
    public const long MountSetattr = 442;
}

/// <summary>prctl(2) options.</summary>
public static class Prctl
{
    public const int SetPdeathsig = 1;
    public const int SetDumpable = 4;
    public const int SetKeepCaps = 8;
    public const int CapBsetRead = 23;
    public const int CapBsetDrop = 24;
    public const int SetNoNewPrivs = 38;
    public const int CapAmbient = 47;
    public const int CapAmbientRaise = 2;
    public const int CapAmbientClearAll = 4;
}

/// <summary>File type bits of st_mode.</summary>
public static class StatMode
{
    public const uint IfChr = 0x2000;
    public const uint IfBlk = 0x6000;
    public const uint IfIfo = 0x1000;
    public const uint IfReg = 0x8000;
}

/// <summary>Misc constants.</summary>
public static class Consts
{
    public const int AfUnix = 1;
    public const int SockStream = 1;
    public const int SockSeqPacket = 5;
    public const int SockCloExec = 0x80000;
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int FGetFd = 1;
    public const int FSetFd = 2;
    public const int FdCloExec = 1;
    public const int LockEx = 2;
    public const int LockUn = 8;
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const int WNoHang = 1;
    public const int EIntr = 4;
    public const int ENoEnt = 2;
    public const int ESrch = 3;
    public const int EAgain = 11;
    public const int EExist = 17;
    public const int ENotDir = 20;
    public const int EInval = 22;
    public const int EChild = 10;
    public const int EPerm = 1;
    public const int EBusy = 16;
    public const uint TiocSctty = 0x540E;
    public const uint TiocSwinsz = 0x5414;
    public const uint TiocGwinsz = 0x5413;
    public const uint TiocGptn = 0x80045430;
    public const uint TiocSptlck = 0x40045431;
    public const ulong Cgroup2SuperMagic = 0x63677270;
    public const ulong TmpfsMagic = 0x01021994;
    public const short PosixSpawnResetIds = 0x01;
    public const short PosixSpawnSetSigDef = 0x04;
    public const short PosixSpawnSetSigMask = 0x08;
    public const short PosixSpawnSetSid = 0x80;
    public const int SigKill = 9;
    public const int SigTerm = 15;
}
