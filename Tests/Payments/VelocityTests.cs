using FinCore.Grains;
using FinCore.Grains.Risk;

namespace FinCore.Tests.Payments;

/// <summary>The velocity rules count a tenant's charges per customer and per payment method over the last minute.</summary>
public sealed class VelocityTests
{
    [Fact]
    public async Task Charges_count_per_customer_and_payment_method_within_a_minute_and_a_retried_create_counts_once()
    {
        var clock = new ManualClock();
        var grain = new VelocityGrain { Clock = clock };

        Assert.Equal(new VelocityCounts(1, 1), await grain.Record("ch_1", "cus_a", "pm_x"));
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(new VelocityCounts(2, 1), await grain.Record("ch_2", "cus_a", "pm_y"));
        Assert.Equal(new VelocityCounts(2, 1), await grain.Record("ch_2", "cus_a", "pm_y")); // the same create, retried
        Assert.Equal(new VelocityCounts(0, 2), await grain.Record("ch_3", null, "pm_x"));

        clock.Advance(TimeSpan.FromSeconds(45)); // ch_1 is more than a minute old, ch_2 and ch_3 are not
        Assert.Equal(new VelocityCounts(2, 2), await grain.Record("ch_4", "cus_a", "pm_x"));
    }

    [Fact]
    public async Task A_forgotten_charge_no_longer_counts_and_the_others_still_do()
    {
        var clock = new ManualClock();
        var grain = new VelocityGrain { Clock = clock };
        await grain.Record("ch_1", "cus_a", "pm_x");
        clock.Advance(TimeSpan.FromSeconds(1));
        await grain.Record("ch_2", "cus_a", "pm_x");

        await grain.Forget("ch_2"); // a create that turned out to replay one stored before
        await grain.Forget("ch_unknown"); // nothing
        Assert.Equal(new VelocityCounts(2, 2), await grain.Record("ch_3", "cus_a", "pm_x"));
        Assert.Equal(new VelocityCounts(3, 3), await grain.Record("ch_2", "cus_a", "pm_x")); // counted anew once recorded again

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(new VelocityCounts(1, 1), await grain.Record("ch_4", "cus_a", "pm_x")); // all of them expired
    }

    [Fact]
    public async Task Customers_and_payment_methods_idle_for_a_minute_are_forgotten()
    {
        var clock = new ManualClock();
        var grain = new VelocityGrain { Clock = clock };
        for (var i = 0; i < 1_000; i++)
        {
            await grain.Record($"ch_{i}", $"cus_{i}", $"pm_{i}");
        }

        Assert.Equal(2_000, grain.TrackedKeys);
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(new VelocityCounts(1, 1), await grain.Record("ch_new", "cus_new", "pm_new"));
        Assert.Equal(2, grain.TrackedKeys);
        Assert.Equal(new VelocityCounts(1, 1), await grain.Record("ch_0", "cus_0", "pm_0")); // its earlier count has expired too
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
