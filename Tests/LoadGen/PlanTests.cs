using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Thresholds;
using FinCore.LoadGen.Workloads;

namespace FinCore.Tests.LoadGen;

public sealed class PlanTests
{
    [Fact]
    public void A_ramp_schedules_as_many_arrivals_as_the_area_under_its_rate()
    {
        var ramp = Phase.Ramp("r", 100, 1100, TimeSpan.FromSeconds(10));
        long n = 0;
        TimeSpan? last = TimeSpan.Zero;
        while (ramp.ArrivalTime(n) is { } t)
        {
            Assert.True(t >= last, "arrival times never go back");
            last = t;
            n++;
        }

        // (100 + 1100) / 2 × 10 s = 6,000 arrivals; the first half (100 → 600/s) carries 1,750 of them.
        Assert.InRange(n, 5999, 6001);
        long firstHalf = 0;
        while (ramp.ArrivalTime(firstHalf) is { } t && t < TimeSpan.FromSeconds(5))
        {
            firstHalf++;
        }

        Assert.InRange(firstHalf, 1749, 1751);
    }

    [Fact]
    public void A_plan_file_reads_rates_ramps_pauses_and_until()
    {
        var plan = LoadPlan.FromJson("""
            { "phases": [
                { "name": "warm", "rate": 100, "duration": "30s" },
                { "ramp": { "from": 100, "to": 1000 }, "duration": "1m" },
                { "pause": "10s" },
                { "name": "break", "ramp": { "from": 1000, "to": 5000 }, "duration": "5m", "until": "errors>1%" } ] }
            """);
        Assert.Equal(4, plan.Phases.Count);
        Assert.Equal(PhaseKind.Pause, plan.Phases[2].Kind);
        Assert.Equal(TimeSpan.FromSeconds(30 + 60 + 10 + 300), plan.Duration);
        Assert.Equal("errors>1%", plan.Phases[3].Until);
        Assert.Equal(3000 + 33000, plan.ExpectedArrivals - plan.Phases[3].ArrivalsBy(plan.Phases[3].Duration), 1);
    }

    [Theory]
    [InlineData("""{ "phases": [] }""")]
    [InlineData("""{ "phases": [ { "rate": 100 } ] }""")]
    [InlineData("""{ "phases": [ { "rate": -1, "duration": "1s" } ] }""")]
    [InlineData("""{ "phases": [ { "rate": 10, "duration": "soon" } ] }""")]
    [InlineData("""{ "phases": [ { "rate": 10, "duration": "1s", "until": "bananas>1" } ] }""")]
    public void A_bad_plan_file_is_refused_with_a_reason(string json) =>
        Assert.Throws<FormatException>(() => LoadPlan.FromJson(json));

    [Fact]
    public void The_seed_profile_is_the_seed_requirement_and_scales_down()
    {
        var seed = Profiles.Get("seed");
        Assert.Equal([100.0, 1000, 3000], seed.Phases.Take(3).Select(p => p.Rate));
        Assert.Equal([10.0, 30, 15], seed.Phases.Take(3).Select(p => p.Duration.TotalMinutes));
        Assert.Equal("errors>1%", seed.Phases[3].Until);
        var shortSeed = seed.Scaled(0.05);
        Assert.Equal(TimeSpan.FromSeconds(30), shortSeed.Phases[0].Duration);
        Assert.Equal(seed.Phases[1].Rate, shortSeed.Phases[1].Rate);
    }

    [Theory]
    [InlineData("p95<200ms", "p95", 200_000)]
    [InlineData("errors<0.1%", "errors", 0.001)]
    [InlineData("dropped<0.1%", "dropped", 0.001)]
    [InlineData("p99.9 < 1s", "p999", 1_000_000)]
    [InlineData("rps>=900", "rps", 900)]
    [InlineData("completion_p99<1s", "completion_p99", 1_000_000)]
    public void Thresholds_parse_into_metric_and_limit(string text, string metric, double limit)
    {
        var t = Threshold.Parse(text);
        Assert.Equal(metric, t.Metric);
        Assert.Equal(limit, t.Limit, 6);
    }

    [Theory]
    [InlineData("p95")]
    [InlineData("p95<200")]
    [InlineData("latency<5ms")]
    [InlineData("errors<5ms")]
    public void A_bad_threshold_is_refused(string text) => Assert.Throws<FormatException>(() => Threshold.Parse(text));

    [Fact]
    public void The_mix_follows_its_weights()
    {
        var mix = Mix.Parse("create=80,get=20");
        var creates = Enumerable.Range(0, 100_000).Count(_ => mix.Next() == Operation.Create);
        Assert.InRange(creates, 79_000, 81_000);
        Assert.Throws<FormatException>(() => Mix.Parse("create=80,payout=20"));
    }
}
