/*
 * MiniDock's nsexec: the part of entering namespaces that must happen before the .NET runtime
 * starts its threads. unshare(CLONE_NEWUSER) and setns(<user ns>) fail with EINVAL in a
 * multithreaded process (user_namespaces(7), setns(2)), and .NET is threaded from its first
 * instruction, so they run here, in an ELF constructor of the NativeAOT binary, while the process
 * is still single-threaded. The design follows runc's libcontainer/nsenter (join the namespaces
 * given by path, create the user namespace, let the parent write the id maps, become root in it,
 * create the remaining namespaces so that they are owned by it), written anew for MiniDock.
 *
 * It does nothing unless _MINIDOCK_NSEXEC is set, which only the engine does for an init or exec
 * helper that needs it (Namespaces.cs / NsExec.cs). Its value, all numbers:
 *
 *     <sock> <unshare-flags-hex> [<fd>:<nstype-hex> ...]
 *
 * sock is a stream socket to the runtime; each fd is an open namespace file (/proc/PID/ns/TYPE) to setns into,
 * in order (the user namespace first, mount last). The variable is removed before anything else
 * can see it. On the socket (one byte per message, before the engine's JSON frames begin):
 *
 *     runtime -> here  'G'            go (the runtime has placed us in our cgroups if it had to)
 *     here -> runtime  'U'            the new user namespace exists: write /proc/<pid>/{uid,gid}_map
 *     runtime -> here  'M'            maps written
 *     here -> runtime  'P' <int32>    the pid (host view) that goes on as the container's process
 *     here -> runtime  'E' <text>     failed (then EOF)
 *
 * A new or joined pid namespace only applies to children, so the process then clones once with
 * CLONE_PARENT (the child is the runtime's child, so the runtime can wait for it, and is pid 1 of
 * a new pid namespace) and the child re-executes this binary: a raw clone leaves glibc's idea of
 * the thread id stale, and a fresh image is the only clean way to start the .NET runtime there.
 * The intermediate reports the child's pid and exits. A mount namespace to join is then left to
 * the child's .NET side (_MINIDOCK_NSEXEC_MNT=<fd>), because the re-exec needs the host's ELF
 * interpreter, which the container's mount namespace need not have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSEXEC_ENV "_MINIDOCK_NSEXEC"
#define NSEXEC_MNT_ENV "_MINIDOCK_NSEXEC_MNT"
#define MAX_JOIN 16

extern char **environ;

/* The engine asks for this symbol (a direct P/Invoke) to know whether the constructor is linked in. */
int minidock_nsexec_available(void)
{
    return 1;
}

/* True when the join list holds a user namespace (a failed join may then succeed inside it). */
static int has_user_join(const int *types, int n)
{
    for (int i = 0; i < n; i++)
        if (types[i] == CLONE_NEWUSER)
            return 1;
    return 0;
}

static int nsexec_sock = -1;

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void nsexec_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void nsexec_fail(const char *fmt, ...)
{
    char msg[512];
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n + 1 < sizeof(msg) ? (size_t)n + 1 : sizeof(msg) - 1;
    if (saved != 0)
        len += (size_t)snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
    if (len >= sizeof(msg))
        len = sizeof(msg) - 1;
    msg[0] = 'E';
    if (nsexec_sock >= 0)
        write_all(nsexec_sock, msg, len);
    else
        dprintf(2, "minidock nsexec: %.*s\n", (int)len - 1, msg + 1);
    _exit(1);
}

static void expect_byte(char want)
{
    char c;
    ssize_t n;
    do {
        n = read(nsexec_sock, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        errno = 0;
        nsexec_fail("nsexec: the runtime went away (waiting for '%c')", want);
    }
    if (c != want) {
        errno = 0;
        nsexec_fail("nsexec: unexpected message '%c' (want '%c')", c, want);
    }
}

static void send_pid(pid_t pid)
{
    char msg[1 + sizeof(int32_t)];
    int32_t v = (int32_t)pid;
    msg[0] = 'P';
    memcpy(msg + 1, &v, sizeof(v));
    write_all(nsexec_sock, msg, sizeof(msg));
}

/* Raw syscalls: one thread, and no glibc broadcast machinery needed or wanted this early. */
static void become_root(void)
{
    if (syscall(SYS_setresgid, 0, 0, 0) < 0)
        nsexec_fail("setresgid 0 in the user namespace (is gid 0 mapped?)");
    if (syscall(SYS_setresuid, 0, 0, 0) < 0)
        nsexec_fail("setresuid 0 in the user namespace (is uid 0 mapped?)");
    /* Drop the host's supplementary groups (they would show as the overflow gid); EPERM means
       setgroups is denied in this namespace, which leaves nothing to drop that we could. */
    if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
        nsexec_fail("setgroups");
}

/*
 * The exec shim (ExeGuard.cs, Exec.cs): `exec` into a container spawns this binary from a read-only
 * detached mount with EXECSHIM_ENV="ERRFD:PATH" instead of spawning PATH directly, so that a PATH that
 * resolves to /proc/self/exe (itself, or as a #! interpreter) re-runs that read-only copy rather than the
 * host's writable binary (CVE-2019-5736). Here, before anything else: forget the variable, and execve
 * PATH with our argv and environment; namespaces, credentials, capabilities, rlimits and the seccomp
 * filter were all set by the spawning thread and survive both execs. On failure the errno goes to ERRFD
 * (a close-on-exec pipe: EOF tells the parent that PATH runs).
 */
#define EXECSHIM_ENV "_MINIDOCK_EXECSHIM"

static void minidock_execshim(char **argv)
{
    const char *value = getenv(EXECSHIM_ENV);
    if (value == NULL)
        return;
    char *colon = NULL;
    long errfd = strtol(value, &colon, 10);
    if (colon == NULL || *colon != ':')
        _exit(127);
    char path[4096];
    snprintf(path, sizeof(path), "%s", colon + 1);
    unsetenv(EXECSHIM_ENV);
    /* dup2 in posix_spawn cleared the flag: the container's program must not inherit the pipe. */
    fcntl((int)errfd, F_SETFD, FD_CLOEXEC);
    execve(path, argv, environ);
    int err = errno;
    write_all((int)errfd, &err, sizeof(err));
    _exit(127);
}


/*
 * The user-namespace holder (UsernsHolder.cs), for `run --userns-remap`: the engine needs a user
 * namespace carrying the container's id mapping to idmap the image layers with mount_setattr(2)
 * MOUNT_ATTR_IDMAP before the container exists, and a threaded .NET process cannot unshare one
 * itself. With USERNS_HOLDER_ENV="<fd>" (a socket to the engine) this process unshares
 * CLONE_NEWUSER, reports 'U' (or 'E' and the errno), and waits for EOF or SIGKILL while the engine
 * writes /proc/<pid>/{uid,gid}_map and opens /proc/<pid>/ns/user. .NET never starts here.
 */
#define USERNS_HOLDER_ENV "_MINIDOCK_USERNS_HOLDER"

static void minidock_userns_holder(void)
{
    const char *value = getenv(USERNS_HOLDER_ENV);
    if (value == NULL)
        return;
    int fd = (int)strtol(value, NULL, 10);
    unsetenv(USERNS_HOLDER_ENV);
    char msg[1 + sizeof(int32_t)];
    int32_t err = 0;
    msg[0] = 'U';
    if (unshare(CLONE_NEWUSER) < 0) {
        err = errno;
        msg[0] = 'E';
    }
    memcpy(msg + 1, &err, sizeof(err));
    write_all(fd, msg, sizeof(msg));
    char c;
    while (read(fd, &c, 1) < 0 && errno == EINTR)
        ;
    _exit(0);
}

__attribute__((constructor)) static void minidock_nsexec(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)envp;
    minidock_execshim(argv);
    minidock_userns_holder();
    const char *value = getenv(NSEXEC_ENV);
    if (value == NULL)
        return;

    char spec[512];
    snprintf(spec, sizeof(spec), "%s", value);
    /* Never reaches the container's process, nor the re-executed child. */
    unsetenv(NSEXEC_ENV);

    char *save = NULL;
    char *tok = strtok_r(spec, " ", &save);
    if (tok == NULL) {
        errno = 0;
        nsexec_fail("nsexec: empty " NSEXEC_ENV);
    }
    nsexec_sock = (int)strtol(tok, NULL, 10);
    tok = strtok_r(NULL, " ", &save);
    long unshare_flags = tok != NULL ? strtol(tok, NULL, 16) : 0;

    int join_fd[MAX_JOIN];
    int join_type[MAX_JOIN];
    int joins = 0;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL && joins < MAX_JOIN) {
        char *colon = strchr(tok, ':');
        if (colon == NULL) {
            errno = 0;
            nsexec_fail("nsexec: bad namespace entry %s", tok);
        }
        join_fd[joins] = (int)strtol(tok, NULL, 10);
        join_type[joins] = (int)strtol(colon + 1, NULL, 16);
        joins++;
    }

    int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        nsexec_fail("open /proc/self/exe");

    expect_byte('G');

    /* Joined first, as runc does: once in a new user namespace we could no longer join namespaces
       owned by the host's. The user namespace is first in the list, mount last. Joining an existing
       user namespace comes after the other joins (runc 1.2's order): a container's user namespace
       does not own a network namespace pinned by the host (a bridge network), and once inside it
       setns(net) would be EPERM; one that fails before (EPERM: owned by the user namespace, for a
       caller without the host's capabilities) is tried again after it. */
    int in_userns = 0;
    int fork_needed = (unshare_flags & CLONE_NEWPID) != 0;
    for (int i = 0; i < joins; i++)
        if (join_type[i] == CLONE_NEWPID)
            fork_needed = 1;

    /* A re-executed child must still find this binary's ELF interpreter, which a container's
       mount namespace need not have: the mount namespace is then left to the .NET side
       (NsExec.JoinDeferredMount), named by NSEXEC_MNT_ENV. */
    int deferred_mnt = -1;
    int retry[MAX_JOIN];
    int retries = 0;
    int user_fd = -1;
    for (int i = 0; i < joins; i++) {
        if (fork_needed && join_type[i] == CLONE_NEWNS) {
            deferred_mnt = join_fd[i];
            continue;
        }
        if (join_type[i] == CLONE_NEWUSER) {
            user_fd = join_fd[i];
            continue;
        }
        if (setns(join_fd[i], join_type[i]) < 0) {
            if (errno != EPERM || !has_user_join(join_type, joins))
                nsexec_fail("setns (type 0x%x)", join_type[i]);
            retry[retries++] = i;
            continue;
        }
        close(join_fd[i]);
    }
    if (user_fd >= 0) {
        if (setns(user_fd, CLONE_NEWUSER) < 0)
            nsexec_fail("setns (type 0x%x)", CLONE_NEWUSER);
        close(user_fd);
        in_userns = 1;
    }
    for (int r = 0; r < retries; r++) {
        int i = retry[r];
        if (setns(join_fd[i], join_type[i]) < 0)
            nsexec_fail("setns (type 0x%x)", join_type[i]);
        close(join_fd[i]);
    }

    if (unshare_flags & CLONE_NEWUSER) {
        if (unshare(CLONE_NEWUSER) < 0)
            nsexec_fail("unshare user namespace");
        write_all(nsexec_sock, "U", 1);
        expect_byte('M');
        in_userns = 1;
    }

    if (in_userns)
        become_root();

    /* Created now, so the user namespace owns them: the init can then mount proc, sysfs, mqueue. */
    long rest = unshare_flags & ~(long)CLONE_NEWUSER;
    if (rest != 0 && unshare((int)rest) < 0)
        nsexec_fail("unshare 0x%lx", rest);

    if (!fork_needed) {
        close(exe);
        send_pid(getpid());
        return;
    }

    if (deferred_mnt >= 0) {
        char fdtext[16];
        snprintf(fdtext, sizeof(fdtext), "%d", deferred_mnt);
        setenv(NSEXEC_MNT_ENV, fdtext, 1);
    }

    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, 0);
    if (child < 0)
        nsexec_fail("clone into the pid namespace");
    if (child == 0) {
        syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
        dprintf(2, "minidock nsexec: re-exec in the pid namespace: %s\n", strerror(errno));
        _exit(127);
    }

    send_pid(child);
    _exit(0);
}
