using MiniDock.Containers.Config;
using MiniDock.Containers.Store;

namespace MiniDock.Containers.Tests.Store;

public sealed class ContainerStatesTests
{
    [Theory]
    [InlineData(ContainerState.Created, true)]
    [InlineData(ContainerState.Exited, true)]
    [InlineData(ContainerState.Dead, true)]
    [InlineData(ContainerState.Running, false)]
    [InlineData(ContainerState.Paused, false)]
    [InlineData(ContainerState.Restarting, false)]
    [InlineData(ContainerState.Removing, false)]
    public void Only_a_stopped_container_can_be_started(ContainerState s, bool expected) => Assert.Equal(expected, ContainerStates.CanStart(s));

    [Fact]
    public void Names_round_trip_and_unknown_words_are_dead()
    {
        foreach (var s in Enum.GetValues<ContainerState>())
        {
            Assert.Equal(s, ContainerStates.Parse(ContainerStates.Name(s)));
        }

        Assert.Equal(ContainerState.Dead, ContainerStates.Parse("bogus"));
    }

    [Fact]
    public void Removing_an_active_container_needs_force_with_Dockers_hint()
    {
        var row = new ContainerRow { Id = new string('a', 64), Name = "web" };
        var e = Assert.Throws<ContainerException>(() => ContainerStates.RequireRemovable(row, ContainerState.Running));
        Assert.Contains("stop the container before removing or force remove", e.Message, StringComparison.Ordinal);
        ContainerStates.RequireRemovable(row, ContainerState.Exited);
        Assert.Throws<ContainerException>(() => ContainerStates.RequireRunning(row, ContainerState.Exited, "exec"));
        Assert.Contains("paused", Assert.Throws<ContainerException>(() => ContainerStates.RequireRunning(row, ContainerState.Paused, "exec")).Message, StringComparison.Ordinal);
    }
}
