using System.Globalization;
using System.Text.Json;
using FinCore.LoadGen.Thresholds;

namespace FinCore.LoadGen.Plans;

/// <summary>An ordered list of phases; the whole run's schedule.</summary>
public sealed record LoadPlan(IReadOnlyList<Phase> Phases)
{
    public TimeSpan Duration => Phases.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Duration);

    public double ExpectedArrivals => Phases.Sum(p => p.ArrivalsBy(p.Duration));

    public double PeakRate => Phases.Count == 0 ? 0 : Phases.Max(p => Math.Max(p.Rate, p.EndRate));

    public static LoadPlan Constant(double rate, TimeSpan duration) => new([Phase.Constant("main", rate, duration)]);

    /// <summary>Durations multiplied by <paramref name="factor"/> (rates unchanged): the short version of a plan.</summary>
    public LoadPlan Scaled(double factor) =>
        factor == 1 ? this : new(Phases.Select(p => p with { Duration = TimeSpan.FromSeconds(Math.Max(1, p.Duration.TotalSeconds * factor)) }).ToList());

    /// <summary>
    /// Reads a plan file: <c>{ "phases": [ { "name": "warm", "rate": 100, "duration": "30s" },
    /// { "ramp": { "from": 100, "to": 1000 }, "duration": "1m", "until": "errors>1%" }, { "pause": "10s" } ] }</c>.
    /// </summary>
    public static LoadPlan FromJson(string json)
    {
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!doc.RootElement.TryGetProperty("phases", out var phases) || phases.ValueKind != JsonValueKind.Array || phases.GetArrayLength() == 0)
        {
            throw new FormatException("a plan needs a non-empty \"phases\" array");
        }

        var list = new List<Phase>();
        var i = 0;
        foreach (var p in phases.EnumerateArray())
        {
            i++;
            var name = p.TryGetProperty("name", out var n) ? n.GetString() ?? $"phase {i}" : $"phase {i}";
            if (p.TryGetProperty("pause", out var pause))
            {
                list.Add(Phase.Pause(name, ReadDuration(pause, i)));
                continue;
            }

            if (!p.TryGetProperty("duration", out var durationElement))
            {
                throw new FormatException($"phase {i}: \"duration\" is required");
            }

            var duration = ReadDuration(durationElement, i);
            var until = p.TryGetProperty("until", out var u) ? u.GetString() : null;
            if (until is not null)
            {
                _ = Threshold.Parse(until);
            }

            if (p.TryGetProperty("ramp", out var ramp))
            {
                list.Add(Phase.Ramp(name, ReadRate(ramp, "from", i), ReadRate(ramp, "to", i), duration, until));
            }
            else if (p.TryGetProperty("rate", out var rate) && rate.TryGetDouble(out var r) && r > 0)
            {
                list.Add(Phase.Constant(name, r, duration) with { Until = until });
            }
            else
            {
                throw new FormatException($"phase {i}: needs \"rate\" (> 0), \"ramp\" {{from, to}} or \"pause\"");
            }
        }

        return new LoadPlan(list);
    }

    private static TimeSpan ReadDuration(JsonElement e, int phase)
    {
        var text = e.ValueKind == JsonValueKind.Number ? e.GetDouble().ToString(CultureInfo.InvariantCulture) : e.GetString();
        if (!Durations.TryParse(text, out var d) || d <= TimeSpan.Zero)
        {
            throw new FormatException($"phase {phase}: '{text}' is not a positive duration");
        }

        return d;
    }

    private static double ReadRate(JsonElement ramp, string name, int phase)
    {
        if (!ramp.TryGetProperty(name, out var v) || !v.TryGetDouble(out var r) || r < 0)
        {
            throw new FormatException($"phase {phase}: ramp needs \"{name}\" ≥ 0");
        }

        return r;
    }
}
