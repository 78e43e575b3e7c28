using System.Text.Json.Nodes;
using MiniDock.Cli.Output;
using MiniDock.Containers.Resources;

namespace MiniDock.Cli.Tests.Output;

public sealed class StatsViewTests
{
    private static readonly ContainerStats Sample = new()
    {
        Id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Name = "web", CpuPercent = 12.345,
        MemoryUsage = 1_572_864, MemoryLimit = 64L << 20, BlockRead = 4096, BlockWrite = 1_500_000, Pids = 3,
    };

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1023, "1023B")]
    [InlineData(1536, "1.5KiB")]
    [InlineData(67108864, "64MiB")]
    [InlineData(1234567, "1.177MiB")]
    [InlineData(25276026880, "23.54GiB")]
    public void Memory_sizes_are_go_units_BytesSize(double size, string text) => Assert.Equal(text, StatsView.BytesSize(size));

    [Theory]
    [InlineData(0, "0B")]
    [InlineData(999, "999B")]
    [InlineData(4096, "4.1kB")]
    [InlineData(1500000, "1.5MB")]
    [InlineData(999500, "1e+03kB")] // Go's %.3g
    public void Io_sizes_are_go_units_HumanSizeWithPrecision_3(double size, string text) => Assert.Equal(text, StatsView.HumanSize(size));

    [Fact]
    public void The_table_has_Dockers_columns_and_a_truncated_id()
    {
        var lines = StatsView.Render([(Sample, null)], null, trunc: true).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O       PIDS", lines[0]);
        Assert.Equal("0123456789ab   web       12.35%    1.5MiB / 64MiB      2.34%     0B / 0B   4.1kB / 1.5MB   3", lines[1]);
    }

    [Fact]
    public void Json_lines_have_Dockers_keys_and_the_name_given()
    {
        var line = StatsView.Render([(Sample, "web")], "json", trunc: false).TrimEnd('\n');
        var o = JsonNode.Parse(line)!.AsObject();
        Assert.Equal(["BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"], o.Select(p => p.Key));
        Assert.Equal("web", (string?)o["Container"]);
        Assert.Equal(Sample.Id, (string?)o["ID"]);
        Assert.Equal("1.5MiB / 64MiB", (string?)o["MemUsage"]);
        Assert.Equal("3", (string?)o["PIDs"]);
    }

    [Fact]
    public void Templates_render_per_line_and_table_templates_get_headers()
    {
        Assert.Equal("web 12.35%\n", StatsView.Render([(Sample, null)], "{{.Name}} {{.CPUPerc}}", trunc: true));
        var table = StatsView.Render([(Sample, null)], "table {{.Name}}\\t{{.MemPerc}}", trunc: true).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("NAME      MEM %", table[0]);
        Assert.Equal("web       2.34%", table[1]);
    }
}
