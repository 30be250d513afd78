using System.Globalization;

namespace FinCore.LoadGen.Compare;

/// <summary>
/// <c>--max-regression</c>: <c>10%</c> for every figure, or per figure (<c>p99=10%,errors=0.5%</c>); a bare value
/// and named ones mix (<c>10%,p999=25%</c>). Latencies, throughput and CPU are relative to the base; errors and
/// dropped are rates, so their limit is in percentage points.
/// </summary>
internal sealed class RegressionLimits
{
    private readonly Dictionary<string, double> perFigure = new(StringComparer.Ordinal);
    private double? all;

    public static RegressionLimits None { get; } = new();

    public static RegressionLimits Parse(string text)
    {
        var limits = new RegressionLimits();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var value = Percent(eq < 0 ? part : part[(eq + 1)..], text);
            if (eq < 0)
            {
                limits.all = value;
                continue;
            }

            var figure = ComparedFigure.Find(part[..eq])
                ?? throw new FormatException($"--max-regression '{text}': unknown figure '{part[..eq]}' (one of: {string.Join(", ", ComparedFigure.All.Select(f => f.Name))})");
            limits.perFigure[figure.Name] = value;
        }

        return limits;
    }

    /// <summary>The allowed worsening of <paramref name="figure"/> in percent (points for rates); null: not judged.</summary>
    public double? For(ComparedFigure figure) => perFigure.TryGetValue(figure.Name, out var v) ? v : all;

    private static double Percent(string value, string text) =>
        value.EndsWith('%') && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 && double.IsFinite(v)
            ? v
            : throw new FormatException($"--max-regression '{text}': '{value}' is not a percentage such as 10% or 0.5%");
}
