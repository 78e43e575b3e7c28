using MiniDock.Runtime.Cgroups;

namespace MiniDock.Runtime.Tests.Cgroups;

public sealed class KeyedValueTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void Reads_the_counter_after_its_key_and_not_a_longer_key_with_the_same_start()
    {
        File.WriteAllText(_file, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        Assert.Equal(3, CgroupFs.KeyedValue(_file, "oom_kill"));
        Assert.Equal(0, CgroupFs.KeyedValue(_file, "oom"));
    }

    [Fact]
    public void A_missing_file_or_key_reads_as_zero()
    {
        File.WriteAllText(_file, "low 0\nhigh 0\n");
        Assert.Equal(0, CgroupFs.KeyedValue(_file, "oom_kill"));
        Assert.Equal(0, CgroupFs.KeyedValue(_file + ".absent", "oom_kill"));
    }
}
