namespace MiniDock.Integration.Tests.Fixtures;

/// <summary>
/// Trait names. Tests marked <c>[Trait(Traits.Runtime, Traits.MiniDock)]</c> check MiniDock behaviour that runc
/// does not share (each says why); filter them out with <c>--filter 'Runtime!=minidock'</c> when validating against runc.
/// </summary>
public static class Traits
{
    public const string Runtime = "Runtime";

    public const string MiniDock = "minidock";
}
