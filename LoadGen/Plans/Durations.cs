using System.Globalization;

namespace FinCore.LoadGen.Plans;

/// <summary>Durations as people type them: "500ms", "60s", "10m", "1h", "1m30s"; a bare number is seconds.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text)
    {
        if (!TryParse(text, out var value))
        {
            throw new FormatException($"'{text}' is not a duration (use e.g. 500ms, 60s, 10m, 1h)");
        }

        return value;
    }

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim().ToLowerInvariant();
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            value = TimeSpan.FromSeconds(bare);
            return bare >= 0;
        }

        var i = 0;
        var total = 0.0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(s.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && char.IsLetter(s[i]))
            {
                i++;
            }

            double? seconds = s[unitStart..i] switch
            {
                "us" or "µs" => number / 1e6,
                "ms" => number / 1e3,
                "s" or "sec" => number,
                "m" or "min" => number * 60,
                "h" => number * 3600,
                _ => null,
            };
            if (seconds is null)
            {
                return false;
            }

            total += seconds.Value;
        }

        value = TimeSpan.FromSeconds(total);
        return true;
    }

    public static string Format(TimeSpan d)
    {
        if (d.TotalMilliseconds < 1)
        {
            return $"{d.TotalMicroseconds:0}us";
        }

        if (d.TotalSeconds < 1)
        {
            return $"{d.TotalMilliseconds:0.##}ms";
        }

        if (d.TotalMinutes < 1 || d.TotalSeconds % 60 != 0)
        {
            return d.TotalMinutes < 1 ? $"{d.TotalSeconds:0.##}s" : $"{(int)d.TotalMinutes}m{d.Seconds}s";
        }

        return d.TotalHours >= 1 && d.TotalMinutes % 60 == 0 ? $"{d.TotalHours:0}h" : $"{d.TotalMinutes:0}m";
    }

    /// <summary>Microseconds as a short human string: 850us, 4.21ms, 1.20s.</summary>
    public static string Micros(double micros) =>
        micros < 1000 ? $"{micros:0}us" : micros < 1_000_000 ? $"{micros / 1000:0.##}ms" : $"{micros / 1_000_000:0.00}s";
}
