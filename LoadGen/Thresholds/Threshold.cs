using System.Globalization;
using System.Text.RegularExpressions;
using FinCore.LoadGen.Plans;

namespace FinCore.LoadGen.Thresholds;

/// <summary>
/// A pass/fail rule on a run's figures, written as on the command line: <c>p95&lt;200ms</c>, <c>errors&lt;0.1%</c>,
/// <c>dropped&lt;0.1%</c>, <c>rps&gt;=900</c>, <c>service_p99&lt;50ms</c>, <c>completion_p99&lt;1s</c>.
/// Times are compared in microseconds, percentages as fractions.
/// </summary>
public sealed partial record Threshold(string Expression, string Metric, string Operator, double Limit)
{
    private static readonly string[] Percentiles = ["p50", "p75", "p90", "p95", "p99", "p999", "max", "mean"];

    /// <summary>Every metric a threshold may name.</summary>
    public static readonly IReadOnlyList<string> Metrics =
    [
        .. Percentiles,
        .. Percentiles.Select(p => "service_" + p),
        .. Percentiles.Select(p => "completion_" + p),
        "errors", "dropped", "late", "incomplete", "rps",
    ];

    public static Threshold Parse(string text)
    {
        var m = Pattern().Match(text.Replace(" ", "", StringComparison.Ordinal));
        if (!m.Success)
        {
            throw new FormatException($"threshold '{text}' is not of the form <metric><op><value>, e.g. p95<200ms or errors<0.1%");
        }

        var metric = m.Groups["metric"].Value.ToLowerInvariant();
        metric = metric switch { "error_rate" => "errors", "p99.9" => "p999", _ => metric };
        if (!Metrics.Contains(metric))
        {
            throw new FormatException($"threshold '{text}': unknown metric '{metric}' (one of: {string.Join(", ", Metrics)})");
        }

        var number = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups["unit"].Value.ToLowerInvariant();
        var isTime = metric.StartsWith('p') || metric.Contains("_p", StringComparison.Ordinal) || metric.EndsWith("max", StringComparison.Ordinal) || metric.EndsWith("mean", StringComparison.Ordinal);
        double limit;
        if (isTime)
        {
            if (unit is "" or "%" || !Durations.TryParse(number.ToString(CultureInfo.InvariantCulture) + unit, out var d))
            {
                throw new FormatException($"threshold '{text}': a latency needs a unit (us, ms, s)");
            }

            limit = d.TotalMicroseconds;
        }
        else if (metric == "rps")
        {
            limit = number;
        }
        else
        {
            limit = unit switch
            {
                "%" => number / 100,
                "" => number,
                _ => throw new FormatException($"threshold '{text}': a rate is a percentage (e.g. 0.1%) or a fraction"),
            };
        }

        return new Threshold(text, metric, m.Groups["op"].Value, limit);
    }

    public bool Holds(double actual) => Operator switch
    {
        "<" => actual < Limit,
        "<=" => actual <= Limit,
        ">" => actual > Limit,
        ">=" => actual >= Limit,
        _ => false,
    };

    /// <summary>A value of this threshold's metric, formatted in its unit.</summary>
    public string Format(double value) => Metric switch
    {
        "rps" => value.ToString("0.#", CultureInfo.InvariantCulture) + "/s",
        "errors" or "dropped" or "late" or "incomplete" => (value * 100).ToString("0.###", CultureInfo.InvariantCulture) + "%",
        _ => Durations.Micros(value),
    };

    [GeneratedRegex(@"^(?<metric>[a-zA-Z_][a-zA-Z0-9_.]*)(?<op><=|>=|<|>)(?<value>[0-9]+(\.[0-9]+)?)(?<unit>us|µs|ms|s|m|%)?$")]
    private static partial Regex Pattern();
}
