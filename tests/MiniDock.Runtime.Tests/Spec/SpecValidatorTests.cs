using MiniDock.Runtime.Spec;

namespace MiniDock.Runtime.Tests.Spec;

public sealed class SpecValidatorTests : IDisposable
{
    private readonly string _bundle = Directory.CreateTempSubdirectory("bundle").FullName;

    public SpecValidatorTests() => Directory.CreateDirectory(Path.Combine(_bundle, "rootfs"));

    public void Dispose() => Directory.Delete(_bundle, recursive: true);

    private static RuntimeSpec Valid()
    {
        var s = DefaultSpec.Create();
        s.Process!.Terminal = false;
        return s;
    }

    [Fact]
    public void The_default_spec_is_valid() => SpecValidator.Validate(Valid(), _bundle);

    [Fact]
    public void A_new_user_namespace_without_mappings_is_refused_clearly()
    {
        var s = Valid();
        s.Linux!.Namespaces!.Add(new NamespaceSpec { Type = "user" });
        Assert.Contains("uidMappings", Assert.Throws<RuntimeError>(() => SpecValidator.Validate(s, _bundle)).Message);
    }

    [Fact]
    public void A_user_namespace_with_mappings_is_valid()
    {
        var s = Valid();
        s.Linux!.Namespaces!.Add(new NamespaceSpec { Type = "user" });
        s.Linux.UidMappings = [new IdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        s.Linux.GidMappings = [new IdMapping { ContainerID = 0, HostID = 100000, Size = 65536 }];
        SpecValidator.Validate(s, _bundle);
    }

    [Fact]
    public void A_hostname_needs_a_new_uts_namespace()
    {
        var s = Valid();
        s.Linux!.Namespaces!.RemoveAll(n => n.Type == "uts");
        Assert.Contains("uts", Assert.Throws<RuntimeError>(() => SpecValidator.Validate(s, _bundle)).Message);
    }

    [Fact]
    public void Without_a_mount_namespace_the_container_inherits_the_callers()
    {
        // runtime-tools linux_ns_itype: every namespace may be inherited.
        var s = Valid();
        s.Linux!.Namespaces!.RemoveAll(n => n.Type == "mount");
        SpecValidator.Validate(s, _bundle);
    }

    [Fact]
    public void Duplicate_namespaces_and_empty_args_are_errors()
    {
        var s = Valid();
        s.Linux!.Namespaces!.Add(new NamespaceSpec { Type = "pid" });
        Assert.Throws<RuntimeError>(() => SpecValidator.Validate(s, _bundle));
        var t = Valid();
        t.Process!.Args = [];
        Assert.Throws<RuntimeError>(() => SpecValidator.Validate(t, _bundle));
    }

    [Fact]
    public void A_missing_rootfs_is_reported()
    {
        var s = Valid();
        s.Root!.Path = "nope";
        Assert.Contains("rootfs", Assert.Throws<RuntimeError>(() => SpecValidator.Validate(s, _bundle)).Message);
    }
}
