using MiniDock.Cli.RuntimeCommands;

namespace MiniDock.Cli.Tests.RuntimeCommands;

/// <summary>runc's <c>events --interval</c> takes Go durations.</summary>
public sealed class EventsCommandTests
{
    [Theory]
    [InlineData("5s", 5000)]
    [InlineData("500ms", 500)]
    [InlineData("1m30s", 90000)]
    [InlineData("1.5s", 1500)]
    public void Go_durations_are_read(string text, int ms) => Assert.Equal(TimeSpan.FromMilliseconds(ms), EventsCommand.ParseInterval(text));

    [Theory]
    [InlineData("5")]
    [InlineData("5x")]
    [InlineData("0s")]
    [InlineData("s5s")]
    public void Other_texts_are_refused(string text) => Assert.Throws<MiniDock.Runtime.RuntimeError>(() => EventsCommand.ParseInterval(text));
}
