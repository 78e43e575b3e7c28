using MiniDock.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace MiniDock.Integration.Tests.Containers;

/// <summary>
/// Several <c>run</c>s at once against one MINIDOCK_ROOT: a name is taken exactly once, and parallel --rm containers
/// all run and leave nothing behind. The race of the very first commands to create containers.db has a test of its
/// own (skipped: a known bug), so the others open it first.
/// </summary>
public sealed class LeakConcurrentRunTests(SandboxFixture sandbox, ITestOutputHelper output) : IClassFixture<SandboxFixture>, IDisposable
{
    private const int Rounds = 3;

    private const int Parallel = 8;

    private readonly MinidockCli _cli = new(output);

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Two_runs_with_the_same_name_at_once_make_one_container_and_the_other_fails_with_a_conflict()
    {
        _cli.Ok("pull", sandbox.Image);
        OpenContainerDb();
        for (var round = 0; round < Rounds; round++)
        {
            var name = $"same{round}";
            var runs = Enumerable.Range(0, 2).Select(_ => _cli.Start("run", "--name", name, sandbox.Image, "echo", "won")).ToList();
            var results = runs.Select(r => r.Wait(MinidockCli.DefaultTimeout)).ToList();
            foreach (var r in runs)
            {
                r.Dispose();
            }

            var all = string.Join("\n", results.Select(r => r.Describe()));
            output.WriteLine($"round {round}:\n{all}");
            var winner = Assert.Single(results, r => r.ExitCode == 0);
            Assert.Equal("won\n", winner.Stdout);
            var loser = Assert.Single(results, r => r.ExitCode != 0);
            Assert.True(loser.ExitCode == 125, "the loser must exit 125:\n" + all);
            var line = Assert.Single(loser.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"Conflict. The container name \"/{name}\" is already in use", line, StringComparison.Ordinal);
            Assert.Equal("", loser.Stdout);

            var ps = LeakCheck.PsEntry(_cli, name);
            Assert.True((string?)ps?["State"] == "exited", $"round {round}: {ps?.ToJsonString()}");
            var id = LeakCheck.IdOf(_cli, name)!;
            Assert.Contains(id, line, StringComparison.Ordinal);
            Assert.Equal([id], Directory.EnumerateDirectories(Path.Combine(_cli.DataDir, "containers")).Select(Path.GetFileName));
            Assert.Equal(id, _cli.Ok("ps", "-aq", "--no-trunc").Stdout.Trim());
            LeakCheck.RemoveAll(_cli);
            LeakCheck.AssertNothingLeft(_cli, [id], [], $"round {round}");
        }
    }

    [Fact]
    public void Eight_parallel_run_rm_all_succeed_and_leave_nothing_behind()
    {
        _cli.Ok("pull", sandbox.Image);
        OpenContainerDb();
        _cli.Env["MINIDOCK_DEBUG"] = "1"; // a failure comes with its stack trace
        var runs = Enumerable.Range(0, Parallel).Select(_ => _cli.Start("run", "--rm", sandbox.Image, "hostname")).ToList();
        var results = runs.Select(r => r.Wait(MinidockCli.DefaultTimeout)).ToList();
        foreach (var r in runs)
        {
            r.Dispose();
        }

        var all = string.Join("\n", results.Select(r => r.Describe()));
        output.WriteLine(all);
        Assert.True(results.All(r => r.ExitCode == 0 && r.Stderr.Length == 0), "every run --rm must succeed:\n" + all);

        // A container's hostname is the first 12 hex digits of its ID: that finds what each one could have left.
        var prefixes = results.Select(r => r.Stdout.Trim()).ToList();
        Assert.All(prefixes, p => Assert.Matches("^[0-9a-f]{12}$", p));
        Assert.Equal(Parallel, prefixes.Distinct().Count());
        Assert.Equal("", _cli.Ok("ps", "-aq").Stdout.Trim());
        var leftCgroups = Directory.EnumerateDirectories(LeakCheck.CgroupRoot)
            .Select(c => Path.Combine(c, "minidock"))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Where(d => prefixes.Any(p => Path.GetFileName(d).StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        Assert.True(leftCgroups.Count == 0, "cgroups left by run --rm:\n" + string.Join("\n", leftCgroups));
        LeakCheck.AssertNothingLeft(_cli, [], [], "after 8 parallel run --rm");
    }

    /// <summary>
    /// The first commands on a new data root race to create containers.db: one switches the new file to WAL (holding
    /// SQLite's RESERVED lock for a moment) while another does the same. The second must wait (the 10 s busy
    /// timeout), not fail. Here the test holds that RESERVED byte (an fcntl lock, as SQLite takes it) for a second.
    /// </summary>
    [Fact]
    public void A_command_opening_a_new_container_db_waits_for_a_concurrent_opener_instead_of_failing()
    {
        Directory.CreateDirectory(_cli.DataDir);
        var r = HoldingReservedLock(Path.Combine(_cli.DataDir, "containers.db"), () => _cli.Start("ps", "-a"));
        Assert.True(r.ExitCode == 0, "ps on a new root while another opener holds the write lock for 1 s: " + r.Describe());
    }

    /// <summary>Makes containers.db exist (in WAL mode) before the commands under test race for it.</summary>
    private void OpenContainerDb() => Assert.Equal("", _cli.Ok("ps", "-aq").Stdout.Trim());

    /// <summary>
    /// Creates the (empty) database file, takes SQLite's RESERVED byte (offset 0x40000001, fcntl write lock) as a
    /// concurrent writer would, starts the command, releases the lock after a second, and returns the command's result.
    /// </summary>
    private static CommandResult HoldingReservedLock(string dbPath, Func<RunningCommand> start)
    {
        const long reservedByte = 0x40000001;
        using var fs = new FileStream(dbPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
        fs.Lock(reservedByte, 1);
        using var cmd = start();
        Thread.Sleep(1000);
        var stillWaiting = !cmd.HasExited;
        fs.Unlock(reservedByte, 1);
        var r = cmd.Wait(MinidockCli.DefaultTimeout);
        Assert.True(stillWaiting || r.ExitCode == 0, "it gave up while the lock was held: " + r.Describe());
        return r;
    }
}
