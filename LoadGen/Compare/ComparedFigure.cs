using System.Text.Json;

namespace FinCore.LoadGen.Compare;

/// <summary>
/// A figure <c>compare</c> reads from both reports. <see cref="Points"/>: a rate (errors, dropped) whose change is
/// judged in percentage points; the others are judged relative to the base value.
/// </summary>
internal sealed record ComparedFigure(string Name, string Label, string Unit, bool HigherIsBetter, bool Points, Func<JsonElement, double?> Read)
{
    public static readonly IReadOnlyList<ComparedFigure> All =
    [
        new("throughput", "throughput", "/s", true, false, r => Number(r, "totals", "throughput")),
        .. Latency("p50"), .. Latency("p90"), .. Latency("p99"), .. Latency("p999"), .. Latency("max"),
        new("errors", "errors", "%", false, true, r => Number(r, "totals", "error_rate") * 100),
        new("dropped", "dropped", "%", false, true, r => Number(r, "totals", "dropped_rate") * 100),
        .. Completion("p50"), .. Completion("p90"), .. Completion("p99"), .. Completion("p999"), .. Completion("max"),
        new("cpu", "generator CPU avg", "%", false, false, r => Number(r, "generator", "cpu_avg_pct")),
        new("cpu_per_request", "generator CPU per request", "µs", false, false, r => Number(r, "generator", "cpu_us_per_request")),
    ];

    public static ComparedFigure? Find(string name)
    {
        var n = name.Trim().ToLowerInvariant() switch
        {
            "p99.9" => "p999",
            "rps" => "throughput",
            "completion_p99.9" => "completion_p999",
            var other => other,
        };
        return All.FirstOrDefault(f => f.Name == n);
    }

    private static ComparedFigure[] Latency(string p) =>
        [new(p, "latency " + Pretty(p), "ms", false, false, r => Number(r, "latency", p))];

    private static ComparedFigure[] Completion(string p) =>
        [new("completion_" + p, "202 → terminal " + Pretty(p), "ms", false, false, r => Number(r, "completion", "latency", p))];

    private static string Pretty(string p) => p == "p999" ? "p99.9" : p;

    private static double? Number(JsonElement e, params string[] path)
    {
        foreach (var key in path)
        {
            if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out e))
            {
                return null;
            }
        }

        return e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
    }
}
