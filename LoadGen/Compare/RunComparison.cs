using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FinCore.LoadGen.Compare;

/// <summary><c>loadgen compare BASE NEW</c>: the deltas between two reports, judged against <see cref="RegressionLimits"/>.</summary>
internal static class RunComparison
{
    /// <summary>A report.json, or a run directory holding one.</summary>
    public static (string Path, JsonElement Report) Load(string path)
    {
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, "report.json") : path;
        if (!File.Exists(file))
        {
            throw new FormatException($"{path}: no report.json there");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var root = doc.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("totals", out _) || !root.TryGetProperty("latency", out _))
            {
                throw new FormatException($"{file}: not a LoadGen report (no totals or latency)");
            }

            return (file, root);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{file}: not JSON ({e.Message})");
        }
    }

    public static ComparisonReport Compare(string basePath, JsonElement baseReport, string newPath, JsonElement newReport, RegressionLimits limits, string? limitText)
    {
        var rows = new List<FigureDelta>();
        foreach (var f in ComparedFigure.All)
        {
            var b = f.Read(baseReport);
            var n = f.Read(newReport);
            if (b is null && n is null)
            {
                continue;
            }

            double? delta = b is { } bv && n is { } nv ? nv - bv : null;
            double? pct = delta is { } d && b is { } bb && bb != 0 ? d / bb * 100 : null;
            double? worse = null;
            if (delta is { } dd)
            {
                var sign = f.HigherIsBetter ? -1 : 1;
                worse = f.Points ? sign * dd : pct is { } p ? sign * p : (sign * dd > 0 ? double.PositiveInfinity : 0);
            }

            var limit = limits.For(f);
            var regressed = limit is { } l && worse is { } w && w > l;
            rows.Add(new FigureDelta(f.Name, f.Label, f.Unit, Round(b), Round(n), Round(delta), Round(pct), Round(worse),
                limit is { } lv ? lv.ToString("0.###", CultureInfo.InvariantCulture) + (f.Points ? " pts" : "%") : null, regressed));
        }

        var regressedNames = rows.Where(r => r.Regressed).Select(r => r.Figure).ToList();
        return new ComparisonReport(basePath, newPath, limitText, rows, regressedNames, regressedNames.Count == 0);
    }

    private static double? Round(double? v) => v is { } x && double.IsFinite(x) ? Math.Round(x, 4) : v;

    /// <summary>A plain-text table (no colour): printed, and written to compare.txt.</summary>
    public static string Table(ComparisonReport c)
    {
        static string N(double? v, string unit) => v is null ? "—" : v.Value.ToString(Math.Abs(v.Value) >= 100 ? "0.#" : "0.###", CultureInfo.InvariantCulture) + (unit == "/s" ? "/s" : unit == "%" ? "%" : " " + unit);
        static string Signed(double? v, string suffix) => v is null ? "—" : (v.Value > 0 ? "+" : "") + v.Value.ToString("0.##", CultureInfo.InvariantCulture) + suffix;

        var header = new[] { "figure", "base", "new", "delta", "delta %", "limit", "verdict" };
        var lines = c.Figures.Select(r => new[]
        {
            r.Label, N(r.Base, r.Unit), N(r.New, r.Unit), Signed(r.Delta, r.Unit == "/s" ? "/s" : r.Unit == "%" ? " pts" : " " + r.Unit), Signed(r.DeltaPct, "%"),
            r.Limit ?? "", r.Limit is null ? "" : r.Regressed ? "REGRESSED" : "ok",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, lines.Count == 0 ? 0 : lines.Max(l => l[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.Append("base ").Append(c.Base).Append('\n').Append("new  ").Append(c.New).Append('\n');
        void Line(string[] cells)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                sb.Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
                sb.Append(i == cells.Length - 1 ? "\n" : "  ");
            }
        }

        Line(header);
        Line(widths.Select(w => new string('-', w)).ToArray());
        foreach (var l in lines)
        {
            Line(l);
        }

        sb.Append(c.MaxRegression is null ? "no --max-regression: nothing judged\n"
            : c.Passed ? $"PASSED: no figure regressed more than --max-regression {c.MaxRegression}\n"
            : $"FAILED: {string.Join(", ", c.Regressed)} regressed more than --max-regression {c.MaxRegression}\n");
        return sb.ToString();
    }
}
