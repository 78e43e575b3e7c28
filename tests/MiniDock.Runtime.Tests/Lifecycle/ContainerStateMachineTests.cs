using MiniDock.Runtime;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Runtime.Tests.Lifecycle;

public sealed class ContainerStateMachineTests
{
    [Theory]
    [InlineData(ContainerStatus.Created, LifecycleOp.Start, true)]
    [InlineData(ContainerStatus.Running, LifecycleOp.Start, false)]
    [InlineData(ContainerStatus.Stopped, LifecycleOp.Start, false)]
    [InlineData(ContainerStatus.Created, LifecycleOp.Delete, false)]
    [InlineData(ContainerStatus.Running, LifecycleOp.Delete, false)]
    [InlineData(ContainerStatus.Stopped, LifecycleOp.Delete, true)]
    [InlineData(ContainerStatus.Created, LifecycleOp.Kill, true)]
    [InlineData(ContainerStatus.Stopped, LifecycleOp.Kill, false)]
    [InlineData(ContainerStatus.Created, LifecycleOp.Exec, false)]
    [InlineData(ContainerStatus.Running, LifecycleOp.Exec, true)]
    [InlineData(ContainerStatus.Running, LifecycleOp.Pause, true)]
    [InlineData(ContainerStatus.Paused, LifecycleOp.Resume, true)]
    [InlineData(ContainerStatus.Running, LifecycleOp.Resume, false)]
    public void Allows_follows_the_runtime_spec_lifecycle(ContainerStatus status, LifecycleOp op, bool allowed)
        => Assert.Equal(allowed, ContainerStateMachine.Allows(status, op));

    [Fact]
    public void Deleting_a_created_container_is_an_error_that_names_the_fix()
    {
        var e = Assert.Throws<RuntimeError>(() => ContainerStateMachine.Require("c1", ContainerStatus.Created, LifecycleOp.Delete));
        Assert.Contains("not stopped", e.Message);
        Assert.Contains("--force", e.Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("a b")]
    public void Path_tricks_in_ids_are_refused(string id) => Assert.Throws<RuntimeError>(() => StateStore.ValidateId(id));

    [Theory]
    [InlineData("abc")]
    [InlineData("my_container-1.2+3")]
    public void Ordinary_ids_pass(string id) => StateStore.ValidateId(id);

    [Theory]
    [InlineData("KILL", 9)]
    [InlineData("SIGTERM", 15)]
    [InlineData("9", 9)]
    [InlineData("usr1", 10)]
    [InlineData("RTMIN+2", 36)]
    public void Signals_parse_like_runc(string text, int expected) => Assert.Equal(expected, Kill.ParseSignal(text));

    [Fact]
    public void Unknown_signals_are_errors() => Assert.Throws<RuntimeError>(() => Kill.ParseSignal("NOPE"));
}
