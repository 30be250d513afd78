using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinCore.LoadGen.Reports;

/// <summary>Writes report.json, timeline.csv (one row per second) and report.html (self-contained, charts drawn in the page).</summary>
internal static class ReportWriter
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static IReadOnlyList<string> WriteAll(RunReport report, string dir)
    {
        Directory.CreateDirectory(dir);
        var json = JsonSerializer.Serialize(report, Json);
        var jsonPath = Path.Combine(dir, "report.json");
        File.WriteAllText(jsonPath, json);

        var csvPath = Path.Combine(dir, "timeline.csv");
        File.WriteAllText(csvPath, Csv(report));

        var htmlPath = Path.Combine(dir, "report.html");
        File.WriteAllText(htmlPath, Html(json));
        return [jsonPath, csvPath, htmlPath];
    }

    public static string Csv(RunReport report)
    {
        var statuses = report.Timeline.SelectMany(r => r.Statuses.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        sb.Append("t_s,phase,warmup,target_rate,scheduled,sent,completed,errors,dropped,late,p50_ms,p90_ms,p99_ms,max_ms,service_p50_ms,service_p99_ms,completions,completion_p50_ms,completion_p99_ms,cpu_pct,working_set_mb,backlog");
        foreach (var s in statuses)
        {
            sb.Append(",status_").Append(s);
        }

        sb.Append('\n');
        foreach (var r in report.Timeline)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{r.T},{r.Phase},{(r.Warmup ? 1 : 0)},{r.TargetRate},{r.Scheduled},{r.Sent},{r.Completed},{r.Errors},{r.Dropped},{r.Late},{r.P50},{r.P90},{r.P99},{r.Max},{r.ServiceP50},{r.ServiceP99},{r.Completions},{r.CompletionP50},{r.CompletionP99},{r.CpuPct},{r.WorkingSetMb},{r.Backlog}");
            foreach (var s in statuses)
            {
                sb.Append(',').Append(r.Statuses.TryGetValue(s, out var c) ? c : 0);
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    public static string Html(string reportJson)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("report.html")
            ?? throw new InvalidOperationException("report.html template is missing from the assembly");
        using var reader = new StreamReader(stream);
        var template = reader.ReadToEnd();

        // Inline the data; "</" is escaped so no value can close the script element.
        return template.Replace("/*REPORT_JSON*/null", reportJson.Replace("</", "<\\/", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
