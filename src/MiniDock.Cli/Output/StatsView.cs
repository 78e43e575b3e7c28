using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MiniDock.Containers.Resources;
using MiniDock.Runtime.Spec;

namespace MiniDock.Cli.Output;

/// <summary>
/// <c>stats</c> as Docker's CLI prints it (cli/command/container/formatter_stats.go): the columns, go-units'
/// sizes (binary 4-digit for memory, decimal 3-digit for I/O), "%.2f%%" percentages, and the JSON object
/// <c>--format json</c> writes per container.
/// </summary>
public static partial class StatsView
{
    public static readonly IReadOnlyList<string> Headers = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"];

    /// <summary>The template fields and their column titles, for <c>--format "table {{.Name}}\t…"</c>.</summary>
    private static readonly Dictionary<string, string> HeaderOf = new(StringComparer.Ordinal)
    {
        ["Container"] = "CONTAINER", ["ID"] = "CONTAINER ID", ["Name"] = "NAME", ["CPUPerc"] = "CPU %", ["MemUsage"] = "MEM USAGE / LIMIT",
        ["MemPerc"] = "MEM %", ["NetIO"] = "NET I/O", ["BlockIO"] = "BLOCK I/O", ["PIDs"] = "PIDS",
    };

    /// <summary>One table row, in <see cref="Headers"/> order.</summary>
    public static IReadOnlyList<string> Row(ContainerStats s, bool trunc)
    {
        var f = Fields(s, trunc, container: null);
        return [f["ID"], f["Name"], f["CPUPerc"], f["MemUsage"], f["MemPerc"], f["NetIO"], f["BlockIO"], f["PIDs"]];
    }

    /// <summary>Docker's stats fields as strings, keyed by their template names.</summary>
    public static SortedDictionary<string, string> Fields(ContainerStats s, bool trunc, string? container)
    {
        var id = trunc && s.Id.Length > 12 ? s.Id[..12] : s.Id;
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["BlockIO"] = HumanSize(s.BlockRead) + " / " + HumanSize(s.BlockWrite),
            ["CPUPerc"] = Percent(s.CpuPercent),
            ["Container"] = container ?? id,
            ["ID"] = id,
            ["MemPerc"] = Percent(s.MemoryPercent),
            ["MemUsage"] = BytesSize(s.MemoryUsage) + " / " + BytesSize(s.MemoryLimit),
            ["Name"] = s.Name,
            ["NetIO"] = HumanSize(s.NetRx) + " / " + HumanSize(s.NetTx),
            ["PIDs"] = s.Pids.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>One JSON line, keys sorted as Go marshals them (<c>docker stats --format json</c>).</summary>
    public static string Json(ContainerStats s, bool trunc, string? container)
        => System.Text.Encoding.UTF8.GetString(StateJson.Build(w =>
        {
            w.WriteStartObject();
            foreach (var (k, v) in Fields(s, trunc, container))
            {
                w.WriteString(k, v);
            }

            w.WriteEndObject();
        }));

    /// <summary>
    /// The whole frame for one set of readings: Docker's table, <c>json</c> lines, a template per line, or a
    /// <c>table TEMPLATE</c> with its headers.
    /// </summary>
    public static string Render(IReadOnlyList<(ContainerStats Stats, string? Given)> rows, string? format, bool trunc)
    {
        if (format is null or "table")
        {
            return Table.Render(Headers, [.. rows.Select(r => Row(r.Stats, trunc))]);
        }

        if (format is "json" or "{{json .}}")
        {
            return string.Concat(rows.Select(r => Json(r.Stats, trunc, r.Given) + "\n"));
        }

        var isTable = format.StartsWith("table ", StringComparison.Ordinal);
        var template = isTable ? format[6..] : format;
        var lines = rows.Select(r =>
        {
            using var doc = JsonDocument.Parse(Json(r.Stats, trunc, r.Given));
            return Template.Render(template, doc.RootElement);
        }).ToList();
        if (!isTable)
        {
            return string.Concat(lines.Select(l => l + "\n"));
        }

        var header = FieldPattern().Replace(template.Replace("\\t", "\t", StringComparison.Ordinal), m => HeaderOf.GetValueOrDefault(m.Groups[1].Value, m.Groups[1].Value.ToUpperInvariant()));
        var cells = header.Split('\t');
        return Table.Render(cells, [.. lines.Select(l => (IReadOnlyList<string>)Pad(l.Split('\t'), cells.Length))]);
    }

    /// <summary>go-units BytesSize: 1024-based, "%.4g" and KiB/MiB/GiB…, e.g. "1.5MiB", "64MiB", "0B".</summary>
    public static string BytesSize(double size) => CustomSize(size, 1024, 4, ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]);

    /// <summary>go-units HumanSizeWithPrecision(size, 3): 1000-based, "%.3g" and kB/MB/GB…, e.g. "4.1kB", "0B".</summary>
    public static string HumanSize(double size) => CustomSize(size, 1000, 3, ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]);

    public static string Percent(double p) => p.ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static string CustomSize(double size, double unit, int precision, string[] abbrs)
    {
        var i = 0;
        while (size >= unit && i < abbrs.Length - 1)
        {
            size /= unit;
            i++;
        }

        // Go's %g: lower-case exponent; .NET's G format matches it otherwise for these magnitudes.
        return size.ToString("G" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace('E', 'e') + abbrs[i];
    }

    private static string[] Pad(string[] cells, int n) => cells.Length >= n ? cells[..n] : [.. cells, .. Enumerable.Repeat("", n - cells.Length)];

    [GeneratedRegex(@"\{\{\s*\.(\w+)\s*\}\}")]
    private static partial Regex FieldPattern();
}
