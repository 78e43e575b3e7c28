using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// A foreground <c>run</c> is its container's owner. SIGKILL it after a random delay (seeded; MINIDOCK_KILL_SEED
/// repeats a run), so that it dies while creating, mounting, starting or waiting: <c>ps</c> must still tell the truth
/// (see <see cref="LeakCheck.AssertPsTrueAcrossDeath"/>), and <c>rm -f</c> must leave no mount, cgroup, runtime state
/// or container directory behind. Then a created container whose owner died mid-create can still be started.
/// </summary>
public sealed class KillForegroundRunTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const int Iterations = 12;

    private const int MaxDelayMs = 400;

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ps_stays_true_and_rm_f_leaves_nothing_when_a_foreground_run_is_killed_at_random_points(bool autoRemove)
    {
        _cli.Ok("pull", sandbox.Image);
        var rng = LeakCheck.SeededRandom(output, out var seed);
        var ids = new List<string>();
        var seen = new List<LeakCheck.Seen>();
        for (var i = 0; i < Iterations; i++)
        {
            var name = $"fg{(autoRemove ? "rm" : "keep")}{i}";
            var delay = rng.Next(0, MaxDelayMs + 1);
            var ctx = $"seed {seed}, iteration {i} ({name}, run{(autoRemove ? " --rm" : "")} killed after {delay} ms)";
            string[] args = ["run", .. autoRemove ? new[] { "--rm" } : [], "--name", name, sandbox.Image, "sh", "-c", "echo x; sleep 300"];
            using (var run = _cli.Start(args))
            {
                Thread.Sleep(delay);
                Assert.False(run.HasExited, $"{ctx}: run ended before it was killed\nstdout: {run.StdoutSoFar}\nstderr: {run.StderrSoFar}");
                run.Signal(Native.SIGKILL);
                var r = run.Wait(TimeSpan.FromSeconds(10));
                Assert.True(r.ExitCode is 137 or -9 or 9, $"{ctx}: run was not killed by SIGKILL: {r.Describe()}");
                output.WriteLine($"{ctx}: killed; it had printed [{r.Stdout.Trim()}]");
            }

            var (id, procs) = LeakCheck.AssertPsTrueAcrossDeath(_cli, name, autoRemove, ctx);
            seen.AddRange(procs);
            if (id is null)
            {
                output.WriteLine($"{ctx}: killed before the container was recorded");
                continue;
            }

            ids.Add(id);
            output.WriteLine($"{ctx}: {id[..12]} ended as {LeakCheck.PsEntry(_cli, name)?["State"]?.ToString() ?? "(removed)"}");
            LeakCheck.RemoveAll(_cli);
            LeakCheck.AssertNothingLeft(_cli, [id], procs, ctx);
        }

        LeakCheck.AssertNothingLeft(_cli, ids, seen, $"seed {seed}, after all iterations");
    }

    /// <summary>
    /// A create killed after recording the container but before making its directory, or an rm killed after deleting
    /// the directory but before the row, leaves a row without a directory: ps lists it as created, and rm -f removes it.
    /// </summary>
    [Fact]
    public void Rm_f_removes_a_container_whose_directory_is_gone()
    {
        var id = _cli.Ok("create", "--name", "nodir", sandbox.Image, "true").Stdout.Trim();
        Directory.Delete(LeakCheck.ContainerDir(_cli, id), recursive: true);
        Assert.Equal("created", (string?)LeakCheck.PsEntry(_cli, "nodir")?["State"]);
        _cli.Ok("rm", "-f", "nodir");
        Assert.Null(LeakCheck.IdOf(_cli, "nodir"));
        LeakCheck.AssertNothingLeft(_cli, [id], [], "after rm -f");
    }

    /// <summary>
    /// The CLI dies the moment the runtime has written exec.fifo (the init is booting or parked, the container is
    /// not started): a later <c>start</c> discards that runtime state (and its init) and runs the container.
    /// </summary>
    [Fact]
    public void Start_runs_a_container_whose_foreground_run_was_killed_mid_create()
    {
        _cli.Ok("pull", sandbox.Image);
        var (id, oldProcs) = KillMidCreate.Run(_cli, output, "midcreate", name =>
            _cli.Start("run", "--name", name, sandbox.Image, "sh", "-c", "echo started; sleep 300"), owner: (cmd, _) => cmd.HasExited ? 0 : cmd.Pid);
        KillMidCreate.AssertStartWorks(_cli, output, "midcreate", id, oldProcs);
    }
}
