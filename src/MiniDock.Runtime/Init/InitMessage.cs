using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Init;

/// <summary>
/// One frame on the socket between the runtime (parent) and the re-exec'd init (fd 3).
/// parent → init: <c>config</c>, then <c>continue</c> after the createRuntime hooks.
/// init → parent: <c>trace</c> lines, <c>hooks</c> (run prestart/createRuntime now), <c>ready</c>, or <c>error</c>.
/// For exec into a container with a user namespace the first frame is <c>exec</c> instead (ExecInit).
/// </summary>
public sealed class InitMessage
{
    public string Type { get; set; } = "";

    public string? Text { get; set; }

    /// <summary>Parsed on receipt from the spec bytes.</summary>
    public RuntimeSpec? Spec { get; set; }

    /// <summary>The bundle's config.json, verbatim: sent instead of re-serializing the spec.</summary>
    public byte[]? SpecJson { get; set; }

    public string? Id { get; set; }

    public string? Bundle { get; set; }

    public string? Rootfs { get; set; }

    public string? FifoPath { get; set; }

    public string? CgroupPath { get; set; }

    public int HostPid { get; set; }

    public bool Trace { get; set; }

    public long TraceStart { get; set; }

    public bool ConsoleSocket { get; set; }

    /// <summary>Extra fds (3+N) the caller asked to keep (runc's --preserve-fds).</summary>
    public int PreserveFds { get; set; }

    /// <summary>An <c>exec</c> frame's process (process.json), serialized by <see cref="StateJson.WriteProcess"/>.</summary>
    public byte[]? ProcessJson { get; set; }

    /// <summary>Parsed on receipt from <see cref="ProcessJson"/>.</summary>
    public ProcessSpec? Process { get; set; }

    /// <summary>exec: the container shares our mount namespace, so enter its rootfs with chroot.</summary>
    public bool Chroot { get; set; }

    /// <summary>
    /// linux.seccomp compiled by create while the init booted, sent with "go" (8 bytes per BPF instruction), so that
    /// the init only installs it; null: compile from the spec (exec helpers), or no profile.
    /// </summary>
    public byte[]? SeccompProgram { get; set; }

    public uint SeccompFlags { get; set; }
}
