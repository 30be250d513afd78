using System.Diagnostics;
using System.Text.Json;
using OpenTelemetry;

namespace FinCore.Telemetry;

/// <summary>
/// Writes each finished span as one JSON line (trace id, span id, parent id, name, kind, service, tags, times) to a
/// file: a local, dependency-free way to look at traces, and what the tests read to check one trace spans the
/// gateway, the silos and the PSP call.
/// </summary>
public sealed class JsonLinesSpanExporter(string path, string service) : BaseExporter<Activity>
{
    private readonly Lock _gate = new();

    // "{pid}" in the path gives each process its own file (several processes may share one setting).
    private StreamWriter? _writer;

    private readonly string _path = path.Replace("{pid}", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        try
        {
            var lines = new List<string>();
            foreach (var a in batch)
            {
                var tags = new Dictionary<string, string?>(StringComparer.Ordinal);
                foreach (var t in a.TagObjects)
                {
                    tags[t.Key] = Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture);
                }

                lines.Add(JsonSerializer.Serialize(new
                {
                    trace_id = a.TraceId.ToHexString(),
                    span_id = a.SpanId.ToHexString(),
                    parent_span_id = a.ParentSpanId == default ? null : a.ParentSpanId.ToHexString(),
                    name = a.DisplayName,
                    kind = a.Kind.ToString(),
                    source = a.Source.Name,
                    service,
                    start = a.StartTimeUtc,
                    duration_ms = a.Duration.TotalMilliseconds,
                    status = a.Status.ToString(),
                    tags,
                }));
            }

            lock (_gate)
            {
                _writer ??= new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
                foreach (var line in lines)
                {
                    _writer.WriteLine(line);
                }
            }

            return ExportResult.Success;
        }
        catch (IOException)
        {
            return ExportResult.Failure;
        }
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        lock (_gate)
        {
            _writer?.Dispose();
            _writer = null;
        }

        return true;
    }
}
