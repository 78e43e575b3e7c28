using System.Runtime.InteropServices;
using MiniDock.Native;
using MiniDock.Runtime.Security.Seccomp;
using MiniDock.Runtime.Spec;
using NativeSeccomp = MiniDock.Native.Seccomp;

namespace MiniDock.Runtime.Tests.Security.Seccomp;

/// <summary>
/// Filters installed in the real kernel. Each runs on a thread of its own: a filter without TSYNC
/// binds only the thread that installs it (and dies with it), so the test host is untouched.
/// no_new_privs is per thread too, and lets the install succeed without CAP_SYS_ADMIN.
/// </summary>
public sealed class SeccompInstallTests
{
    private const long Getppid = 110;
    private const long Personality = 135;
    private const long Mount = 165;
    private const long Clone3 = 435;

    private static (long Rc, int Errno) Syscall(long nr, nint a1 = 0)
    {
        var rc = Libc.syscall(nr, a1, 0, 0, 0, 0, 0);
        return (rc, rc < 0 ? Marshal.GetLastPInvokeError() : 0);
    }

    private static T OnFilteredThread<T>(Action install, Func<T> body)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                Sys.Prctl(Prctl.SetNoNewPrivs, 1);
                install();
                result = body();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return error is null ? result : throw new InvalidOperationException("on the filtered thread: " + error.Message, error);
    }

    [Fact]
    public void A_filter_binds_the_installing_thread_only()
    {
        var spec = new SeccompSpec
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new SeccompSyscall { Names = ["getppid"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 99 }],
        };

        var filtered = OnFilteredThread(() => SeccompFilter.Install(spec), () => Syscall(Getppid));
        Assert.Equal((-1L, 99), filtered);

        var (rc, errno) = Syscall(Getppid);
        Assert.True(rc > 0, $"the test thread's getppid is not filtered (rc {rc}, errno {errno})");
    }

    [Fact]
    public void The_kernel_accepts_a_docker_like_profile_and_enforces_its_arguments()
    {
        var spec = DockerLikeProfile.Create();
        var results = OnFilteredThread(() => SeccompFilter.Install(spec), () => new[]
        {
            Syscall(Getppid),
            Syscall(Mount),
            Syscall(Clone3),
            Syscall(Personality, unchecked((nint)0xffffffffL)), // query: allowed
            Syscall(Personality, 0x1234), // denied before it could change anything
        });

        Assert.True(results[0].Rc > 0);
        Assert.Equal((-1L, 1), results[1]); // EPERM, not the EFAULT that root would get
        Assert.Equal((-1L, 38), results[2]); // ENOSYS from errnoRet
        Assert.True(results[3].Rc >= 0, $"personality(0xffffffff) = {results[3]}");
        Assert.Equal((-1L, 1), results[4]);
    }

    [Fact]
    public void The_log_flag_is_passed_to_the_kernel()
    {
        var spec = new SeccompSpec
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            Syscalls = [new SeccompSyscall { Names = ["getppid"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 7 }],
        };
        Assert.Equal((-1L, 7), OnFilteredThread(() => SeccompFilter.Install(spec), () => Syscall(Getppid)));
    }

    [Fact]
    public void A_program_the_kernel_refuses_is_an_error_with_its_errno()
    {
        // A load and no ret: the kernel's checker rejects it with EINVAL.
        SockFilter[] invalid = [new SockFilter(0x20, 0, 0, 0)];
        var e = Assert.Throws<InvalidOperationException>(() => OnFilteredThread(() => NativeSeccomp.InstallFilter(invalid, 0), () => 0));
        var sys = Assert.IsType<SysException>(e.InnerException);
        Assert.Equal(22, sys.Errno);
    }
}
