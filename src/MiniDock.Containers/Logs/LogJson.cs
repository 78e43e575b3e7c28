using System.Buffers;
using System.Globalization;
using System.Text;

namespace MiniDock.Containers.Logs;

/// <summary>
/// The two places where Docker's json-file bytes differ from what .NET's JSON writer would produce: the string
/// escaping of <c>log</c> and the time format. Kept byte-for-byte so a log written here is the log Docker writes.
/// </summary>
internal static class LogJson
{
    private static ReadOnlySpan<byte> Hex => "0123456789abcdef"u8;

    /// <summary>
    /// Writes <paramref name="raw"/> as a quoted JSON string the way moby's
    /// <c>daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go</c> (ffjsonWriteJSONBytesAsString) does: valid UTF-8
    /// passes through, each byte of an invalid sequence becomes <c>\ufffd</c> (Go's utf8.DecodeRune consumes one byte
    /// per error), control characters other than \n and \r become <c>\u00XX</c>, and &lt; &gt; &amp; U+2028 U+2029
    /// are escaped as in Go's encoding/json. Container output is bytes, not text, so nothing here may throw.
    /// </summary>
    public static void WriteDockerString(IBufferWriter<byte> output, ReadOnlySpan<byte> raw)
    {
        // Worst case: every byte becomes "\ufffd" (6 bytes), plus quotes.
        var dst = output.GetSpan((raw.Length * 6) + 2);
        var o = 0;
        dst[o++] = (byte)'"';
        var i = 0;
        while (i < raw.Length)
        {
            var b = raw[i];
            if (b < 0x80)
            {
                if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&')
                {
                    dst[o++] = b;
                }
                else if (b is (byte)'\\' or (byte)'"')
                {
                    dst[o++] = (byte)'\\';
                    dst[o++] = b;
                }
                else if (b == '\n')
                {
                    dst[o++] = (byte)'\\';
                    dst[o++] = (byte)'n';
                }
                else if (b == '\r')
                {
                    dst[o++] = (byte)'\\';
                    dst[o++] = (byte)'r';
                }
                else
                {
                    "\\u00"u8.CopyTo(dst[o..]);
                    o += 4;
                    dst[o++] = Hex[b >> 4];
                    dst[o++] = Hex[b & 0xF];
                }

                i++;
                continue;
            }

            if (Rune.DecodeFromUtf8(raw[i..], out var rune, out var size) != OperationStatus.Done)
            {
                "\\ufffd"u8.CopyTo(dst[o..]);
                o += 6;
                i++;
                continue;
            }

            if (rune.Value is 0x2028 or 0x2029)
            {
                "\\u202"u8.CopyTo(dst[o..]);
                o += 5;
                dst[o++] = Hex[rune.Value & 0xF];
            }
            else
            {
                raw.Slice(i, size).CopyTo(dst[o..]);
                o += size;
            }

            i += size;
        }

        dst[o++] = (byte)'"';
        output.Advance(o);
    }

    /// <summary>
    /// Go's <c>time.RFC3339Nano</c> in UTC, as json-file's <c>time</c> field: trailing zeros of the fraction are
    /// dropped (and the dot with them). .NET clocks tick in 100 ns, so at most 7 digits remain.
    /// </summary>
    public static string FormatRfc3339Nano(DateTime utc)
    {
        utc = utc.Kind == DateTimeKind.Local ? utc.ToUniversalTime() : utc;
        var s = utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff", CultureInfo.InvariantCulture).TrimEnd('0');
        return (s.EndsWith('.') ? s[..^1] : s) + "Z";
    }

    /// <summary>
    /// Docker's <c>jsonmessage.RFC3339NanoFixed</c> (always 9 fraction digits), which <c>docker logs -t</c> prints so
    /// that timestamps line up in a column.
    /// </summary>
    public static string FormatRfc3339NanoFixed(DateTime utc)
        => (utc.Kind == DateTimeKind.Local ? utc.ToUniversalTime() : utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses an RFC 3339 time with 0 to 9 fraction digits and a "Z" or ±hh:mm offset (DateTime's own parsers stop at
    /// 7 digits); digits past 100 ns are truncated. Returns false on anything else.
    /// </summary>
    public static bool TryParseRfc3339(ReadOnlySpan<char> s, out DateTime utc)
    {
        utc = default;
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!Num(s[..4], out var year) || !Num(s[5..7], out var month) || !Num(s[8..10], out var day)
            || !Num(s[11..13], out var hour) || !Num(s[14..16], out var minute) || !Num(s[17..19], out var second))
        {
            return false;
        }

        var i = 19;
        long ticks = 0;
        if (s[i] == '.')
        {
            i++;
            var start = i;
            var scale = TimeSpan.TicksPerSecond;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                scale /= 10;
                ticks += (s[i] - '0') * scale;
                i++;
            }

            if (i == start || i - start > 9)
            {
                return false;
            }
        }

        TimeSpan offset;
        if (i == s.Length - 1 && (s[i] == 'Z' || s[i] == 'z'))
        {
            offset = TimeSpan.Zero;
        }
        else if (i == s.Length - 6 && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':'
            && Num(s.Slice(i + 1, 2), out var oh) && Num(s.Slice(i + 4, 2), out var om))
        {
            offset = new TimeSpan(oh, om, 0) * (s[i] == '-' ? -1 : 1);
        }
        else
        {
            return false;
        }

        try
        {
            var local = new DateTime(year, month, day, hour, minute, second == 60 ? 59 : second, DateTimeKind.Unspecified).AddTicks(ticks);
            utc = DateTime.SpecifyKind(local - offset, DateTimeKind.Utc);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool Num(ReadOnlySpan<char> s, out int value)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
