using System.Text.Json.Serialization;
using MiniDock.Runtime.Lifecycle;

namespace MiniDock.Runtime.Spec;

/// <summary>
/// Source-generated JSON for every type the engine reads or writes: reflection-based serializers
/// are not trim/AOT safe, and the one binary is NativeAOT (design-notes §1).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(RuntimeSpec))]
[JsonSerializable(typeof(ProcessSpec))]
[JsonSerializable(typeof(OciState))]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(List<ContainerListEntry>))]
[JsonSerializable(typeof(List<int>))]
[JsonSerializable(typeof(Init.InitMessage))]
public sealed partial class SpecJsonContext : JsonSerializerContext
{
}
