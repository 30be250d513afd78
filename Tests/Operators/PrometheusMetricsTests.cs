using System.Diagnostics.Metrics;
using FinCore.Telemetry;

namespace FinCore.Tests.Operators;

public sealed class PrometheusMetricsTests
{
    [Fact]
    public void Counters_add_up_while_observable_instruments_show_what_they_last_reported()
    {
        using var meter = new Meter("FinCore.Tests.Prometheus." + Guid.NewGuid().ToString("N"));
        using var metrics = new PrometheusMetrics(m => m == meter);
        var total = 5L;
        meter.CreateObservableCounter("test.observed", () => total, description: "a running total");
        meter.CreateObservableGauge("test.level", () => total * 10, description: "a level");
        var added = meter.CreateCounter<long>("test.added", description: "added up");

        added.Add(2);
        metrics.Scrape();
        total = 7;
        added.Add(3);
        var text = metrics.Scrape();

        Assert.Contains("test_observed_total 7\n", text, StringComparison.Ordinal); // not 5 + 7
        Assert.Contains("test_level 70\n", text, StringComparison.Ordinal);
        Assert.Contains("test_added_total 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Units_are_spelled_the_prometheus_way_and_levels_the_runtime_calls_counters_are_gauges()
    {
        using var meter = new Meter("FinCore.Tests.Prometheus." + Guid.NewGuid().ToString("N"));
        using var metrics = new PrometheusMetrics(m => m == meter);
        meter.CreateObservableCounter("test.allocated", () => 4096L, unit: "By");
        meter.CreateObservableCounter("test.pause", () => 0.25, unit: "s");
        meter.CreateObservableCounter("test.items", () => 3L, unit: "{item}");
        meter.CreateObservableUpDownCounter("test.heap", () => 2048L, unit: "By");
        meter.CreateObservableCounter("dotnet.thread_pool.queue.length", () => 12L, unit: "{work_item}");
        meter.CreateHistogram<double>("test.latency", "ms").Record(3);

        var text = metrics.Scrape();

        Assert.Contains("# TYPE test_allocated_bytes_total counter\ntest_allocated_bytes_total 4096\n", text, StringComparison.Ordinal);
        Assert.Contains("test_pause_seconds_total 0.25\n", text, StringComparison.Ordinal);
        Assert.Contains("test_items_total 3\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_heap_bytes gauge\ntest_heap_bytes 2048\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_thread_pool_queue_length gauge\ndotnet_thread_pool_queue_length 12\n", text, StringComparison.Ordinal);
        Assert.Contains("test_latency_ms_count 1\n", text, StringComparison.Ordinal);
    }
}
