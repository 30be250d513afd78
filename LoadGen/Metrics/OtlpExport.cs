using System.Diagnostics.Metrics;
using FinCore.LoadGen.Reports;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FinCore.LoadGen.Metrics;

/// <summary>
/// <c>--otlp URL</c>: the run's metrics pushed with OpenTelemetry (OTLP) as each second is final, so load and server
/// metrics overlay on one dashboard. <c>loadgen.latency</c> (ms, an exponential histogram fed from the second's
/// HdrHistogram), <c>loadgen.requests</c> (completed, by <c>status</c>), <c>loadgen.errors</c>, <c>loadgen.dropped</c>,
/// <c>loadgen.target_rate</c>; the resource says <c>service.name=fincore-loadgen</c>, the run and its target.
/// </summary>
internal sealed class OtlpExport : IDisposable
{
    public const string MeterName = "FinCore.LoadGen";
    private readonly Meter meter = new(MeterName);
    private readonly MeterProvider provider;
    private readonly Histogram<double> latency;
    private readonly Counter<long> requests;
    private readonly Counter<long> errors;
    private readonly Counter<long> dropped;
    private double targetRate;

    public OtlpExport(Uri endpoint, bool grpc, string target, string command)
    {
        latency = meter.CreateHistogram<double>("loadgen.latency", "ms", "Latency from the intended send time (coordinated-omission-correct)");
        requests = meter.CreateCounter<long>("loadgen.requests", "{request}", "Requests completed, by status");
        errors = meter.CreateCounter<long>("loadgen.errors", "{request}", "Requests that failed (4xx/5xx, timeouts, connection failures)");
        dropped = meter.CreateCounter<long>("loadgen.dropped", "{request}", "Arrivals never sent (the generator could not keep up)");
        meter.CreateObservableGauge("loadgen.target_rate", () => Volatile.Read(ref targetRate), "{request}/s", "The plan's arrival rate");

        // An http/protobuf endpoint given as a base URL gets the metrics path; gRPC takes the base URL.
        var url = !grpc && endpoint.AbsolutePath is "/" or "" ? new Uri(endpoint, "/v1/metrics") : endpoint;
        var runId = Guid.NewGuid().ToString("N")[..12];
        provider = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(r => r.AddService("fincore-loadgen").AddAttributes(
            [
                new("loadgen.run_id", runId),
                new("loadgen.target", target),
                new("loadgen.command", command),
            ]))
            .AddMeter(MeterName)
            .AddView("loadgen.latency", new Base2ExponentialBucketHistogramConfiguration())
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = url;
                exporter.Protocol = grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 1000;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Delta;
            })
            .Build();
    }

    /// <summary>One finished second: its latencies (HdrHistogram buckets, each value as many times as it was seen) and counts.</summary>
    public void Second(TimelineRow row, Totals slot)
    {
        Volatile.Write(ref targetRate, row.TargetRate);
        foreach (var (value, count) in slot.Latency.Buckets())
        {
            var ms = value / 1000.0;
            for (var i = 0; i < count; i++)
            {
                latency.Record(ms);
            }
        }

        foreach (var (status, count) in row.Statuses)
        {
            requests.Add(count, new KeyValuePair<string, object?>("status", status));
        }

        errors.Add(row.Errors);
        dropped.Add(row.Dropped);
    }

    public void Dispose()
    {
        provider.ForceFlush(5_000);
        provider.Dispose();
        meter.Dispose();
    }
}
