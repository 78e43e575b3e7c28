using MiniDock.Containers.Config;
using MiniDock.Runtime.Spec;

namespace MiniDock.Containers.Tests.Config;

internal static class SpecAssert
{
    /// <summary>Parses the result with the runtime's own reader, checking the written file is the same bytes.</summary>
    public static RuntimeSpec Parse(BundleResult r) => SpecReader.Parse(r.ConfigJson);
}
