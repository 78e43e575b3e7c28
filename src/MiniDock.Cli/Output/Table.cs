using System.Text;

namespace MiniDock.Cli.Output;

/// <summary>
/// The column layout of Docker's tables (<c>ps</c>, <c>images</c>, <c>volume ls</c>…), which Docker's formatter
/// gets from Go's <see href="https://pkg.go.dev/text/tabwriter">text/tabwriter</see> as
/// <c>tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)</c>: every column but the last is as wide as its widest cell plus
/// 3 spaces, and at least 10 characters; widths count runes, as tabwriter does. Scripts that cut Docker's output by
/// column then work on ours. Lines carry no trailing spaces.
/// </summary>
public static class Table
{
    /// <summary>tabwriter's minwidth: a column is never narrower, padding included.</summary>
    public const int MinWidth = 10;

    /// <summary>tabwriter's padding: the spaces after a column's widest cell.</summary>
    public const int Padding = 3;

    /// <summary>The header line and one line per row, each ended by "\n".</summary>
    /// <exception cref="ArgumentException">A row does not have one cell per header.</exception>
    public static string Render(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Count != headers.Count)
            {
                throw new ArgumentException($"row {r} has {rows[r].Count} cells for {headers.Count} columns", nameof(rows));
            }
        }

        var widths = new int[headers.Count];
        for (var c = 0; c < headers.Count - 1; c++)
        {
            var w = Width(headers[c]);
            foreach (var row in rows)
            {
                w = Math.Max(w, Width(row[c]));
            }

            widths[c] = Math.Max(w + Padding, MinWidth);
        }

        var sb = new StringBuilder();
        Line(sb, headers, widths);
        foreach (var row in rows)
        {
            Line(sb, row, widths);
        }

        return sb.ToString();
    }

    private static void Line(StringBuilder sb, IReadOnlyList<string> cells, int[] widths)
    {
        var start = sb.Length;
        for (var c = 0; c < cells.Count; c++)
        {
            sb.Append(cells[c]);
            if (c < cells.Count - 1)
            {
                sb.Append(' ', widths[c] - Width(cells[c]));
            }
        }

        // An empty last cell (or several) would leave the padding of the one before it at the end of the line.
        var end = sb.Length;
        while (end > start && sb[end - 1] == ' ')
        {
            end--;
        }

        sb.Length = end;
        sb.Append('\n');
    }

    /// <summary>tabwriter's cell width: runes, not UTF-16 units or bytes.</summary>
    private static int Width(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            n++;
        }

        return n;
    }
}
