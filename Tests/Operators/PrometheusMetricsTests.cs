using System.Diagnostics.Metrics;
using FinCore.Runtime.Telemetry;

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
}
