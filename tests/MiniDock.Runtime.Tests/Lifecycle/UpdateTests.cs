using System.Text;
using System.Text.Json.Nodes;
using MiniDock.Runtime.Lifecycle;
using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Lifecycle;

public sealed class UpdateTests
{
    [Fact]
    public void Merge_keeps_what_the_patch_does_not_name_and_applies_only_touched_sections()
    {
        var current = new ResourcesSpec
        {
            Memory = new MemorySpec { Limit = 64, Swap = 128, Reservation = 32 },
            Cpu = new CpuSpec { Quota = 20000, Period = 100000, Cpus = "0-1" },
            Devices = [new DeviceCgroupRule { Allow = false, Access = "rwm" }],
        };
        var apply = Update.Merge(current, new ResourcesSpec { Memory = new MemorySpec { Limit = 256 }, Pids = new PidsSpec { Limit = 7 } });

        Assert.Equal(256, current.Memory.Limit);
        Assert.Equal(128, current.Memory.Swap);
        Assert.Equal(7, current.Pids!.Limit);
        Assert.Equal(256, apply.Memory!.Limit);
        Assert.Equal(128, apply.Memory.Swap); // v1 orders memsw against the limit: both go together
        Assert.Null(apply.Cpu);
        Assert.Null(apply.Devices); // an update never rewrites a live container's device allowlist
        Assert.Equal(7, apply.Pids!.Limit);

        apply = Update.Merge(current, new ResourcesSpec { Cpu = new CpuSpec { Quota = 50000 } });
        Assert.Equal(50000, apply.Cpu!.Quota);
        Assert.Equal(100000UL, apply.Cpu.Period);
        Assert.Null(apply.Cpu.Cpus);
        Assert.Equal("0-1", current.Cpu.Cpus);
    }

    [Fact]
    public void The_stored_spec_json_gets_the_new_values_and_keeps_every_other_field()
    {
        var json = Encoding.UTF8.GetBytes("""{"ociVersion":"1.2.0","x-unknown":{"a":1},"linux":{"resources":{"memory":{"limit":64},"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"}]}}""");
        var merged = new ResourcesSpec { Memory = new MemorySpec { Limit = 256, Swap = 512 }, Pids = new PidsSpec { Limit = 9 }, Cpu = new CpuSpec { Cpus = "0" } };
        var patch = new ResourcesSpec { Memory = new MemorySpec(), Pids = new PidsSpec(), Cpu = new CpuSpec() };
        var o = JsonNode.Parse(Update.PatchSpecJson(json, merged, patch))!;

        Assert.Equal(256, (long)o["linux"]!["resources"]!["memory"]!["limit"]!);
        Assert.Equal(512, (long)o["linux"]!["resources"]!["memory"]!["swap"]!);
        Assert.Equal(9, (long)o["linux"]!["resources"]!["pids"]!["limit"]!);
        Assert.Equal("0", (string)o["linux"]!["resources"]!["cpu"]!["cpus"]!);
        Assert.Equal(1, (int)o["x-unknown"]!["a"]!);
        Assert.Equal("pid", (string)o["linux"]!["namespaces"]![0]!["type"]!);
        Assert.False((bool)o["linux"]!["resources"]!["devices"]![0]!["allow"]!);
        var read = SpecReader.Read(System.Text.Json.JsonDocument.Parse(Update.PatchSpecJson(json, merged, patch)).RootElement);
        Assert.Equal(256, read.Linux!.Resources!.Memory!.Limit);
    }

    [Theory]
    [InlineData(ContainerStatus.Created, true)]
    [InlineData(ContainerStatus.Running, true)]
    [InlineData(ContainerStatus.Paused, true)]
    [InlineData(ContainerStatus.Stopped, false)]
    [InlineData(ContainerStatus.Creating, false)]
    public void Update_is_allowed_while_the_container_has_a_cgroup(ContainerStatus status, bool allowed)
        => Assert.Equal(allowed, ContainerStateMachine.Allows(status, LifecycleOp.Update));
}
