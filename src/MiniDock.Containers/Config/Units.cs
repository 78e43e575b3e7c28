using System.Globalization;

namespace MiniDock.Containers.Config;

/// <summary>
/// Sizes as Docker's <c>-m 512m</c> takes them: go-units' RAMInBytes (https://github.com/docker/go-units/blob/master/size.go),
/// so the same strings mean the same bytes in both tools.
/// </summary>
public static class Units
{
    /// <summary>
    /// A number (decimals allowed), an optional space, and an optional suffix <c>b</c>, <c>k|m|g|t|p</c>, <c>kb</c>…,
    /// <c>kib</c>… (any case); every multiple is 1024-based. No suffix means bytes.
    /// </summary>
    public static long ParseBytes(string text)
    {
        var sep = text.AsSpan().LastIndexOfAny("0123456789. ");
        if (sep < 0)
        {
            throw new ContainerException($"invalid size: '{text}'");
        }

        string num, sfx;
        if (text[sep] != ' ')
        {
            num = text[..(sep + 1)];
            sfx = text[(sep + 1)..];
        }
        else
        {
            num = text[..sep];
            sfx = text[(sep + 1)..];
        }

        if (num.Length == 0 || num.Any(c => c is not (>= '0' and <= '9') and not '.')
            || !double.TryParse(num, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var size))
        {
            throw new ContainerException($"invalid size: '{text}'");
        }

        if (sfx.Length > 0)
        {
            var s = sfx.ToLowerInvariant();
            var mul = s[0] switch { 'b' => 1L, 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, 'p' => 1L << 50, _ => 0L };
            var ok = mul != 0 && (s.Length == 1 || (mul != 1 && (s == s[..1] + "b" || s == s[..1] + "ib")));
            if (!ok || s.Length > 3)
            {
                throw new ContainerException($"invalid suffix: '{sfx}'");
            }

            size *= mul;
        }

        if (size >= 9.2233720368547758E18)
        {
            throw new ContainerException($"invalid size: '{text}' (too large)");
        }

        return (long)size;
    }
}
