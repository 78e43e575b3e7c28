using System.Text;

namespace MiniDock.Images.Tests;

/// <summary>The image config fields <c>run</c> reads: here <c>ExposedPorts</c>, what <c>-P</c> publishes.</summary>
public sealed class ImageConfigTests
{
    private static ImageConfig Parse(string json) => ImageConfig.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Exposed_ports_are_the_keys_of_the_config_object_in_their_order()
    {
        var c = Parse("""{"os":"linux","config":{"ExposedPorts":{"80/tcp":{},"53/udp":{},"8080":{}},"Volumes":{"/data":{}}}}""");
        Assert.Equal(["80/tcp", "53/udp", "8080"], c.ExposedPorts);
        Assert.Equal(["/data"], c.Volumes);
    }

    [Theory]
    [InlineData("""{"os":"linux"}""")]
    [InlineData("""{"os":"linux","config":{}}""")]
    [InlineData("""{"os":"linux","config":{"ExposedPorts":null}}""")]
    [InlineData("""{"os":"linux","config":{"ExposedPorts":["80/tcp"]}}""")]
    public void Without_an_exposed_ports_object_there_are_none(string json)
        => Assert.Empty(Parse(json).ExposedPorts);
}
