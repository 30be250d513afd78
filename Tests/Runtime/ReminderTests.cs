using FinCore.TestGrains;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Runtime;

[Collection(ClusterCollection.Name)]
public sealed class ReminderTests(PostgresServer postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_300_ms_one_shot_reminder_fires_once_and_is_then_gone_and_a_periodic_one_keeps_firing()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        var oneShot = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/one-shot");
        var periodic = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/periodic");

        var registered = DateTime.UtcNow;
        await oneShot.Schedule("once", dueMs: 300, periodMs: 0);
        await periodic.Schedule("tick", dueMs: 100, periodMs: 200);

        await Poll.UntilAsync(async () => (await oneShot.Ticks()).Count >= 1, Patience, "the one-shot reminder to fire");
        var tick = Assert.Single(await oneShot.Ticks());
        Assert.True(tick.At >= registered.AddMilliseconds(300), "it fired before it was due");
        await Poll.UntilAsync(async () => !await oneShot.Exists("once"), Patience, "the one-shot reminder to be removed after delivery");

        await Poll.UntilAsync(async () => (await periodic.Ticks()).Count >= 5, Patience, "the periodic reminder to fire five times");
        Assert.True(await periodic.Exists("tick"));
        await periodic.Cancel("tick");
        Assert.False(await periodic.Exists("tick"));

        // Nothing else was delivered to the one-shot grain meanwhile (the periodic one fired five times since).
        Assert.Single(await oneShot.Ticks());
    }

    [Fact]
    public async Task A_reminder_written_with_the_state_fires_re_registers_itself_and_is_removed_with_the_state_and_one_handed_to_another_grain_fires_there()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        var probe = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/with-state");

        await probe.ScheduleWithState("chain", dueMs: 100, times: 4);
        Assert.True(await probe.Exists("chain"), "the reminder committed with the state");
        await Poll.UntilAsync(async () => (await probe.Ticks()).Count >= 4, Patience, "four chained ticks");
        await Poll.UntilAsync(async () => !await probe.Exists("chain"), Patience, "the last tick to remove the reminder with the state");

        // Each tick replaced the reminder it came from, and the last removed it: nothing fires a fifth time.
        await Task.Delay(1500);
        Assert.Equal(4, (await probe.Ticks()).Count(t => t.Name == "chain"));

        // A grain can hand a reminder to another grain with its own state write: the other one fires, once.
        var helper = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/helper");
        // Due in 2 s, so that it is still there to be seen when the hand-off returns (at 100 ms a busy machine could
        // fire and remove it first).
        await probe.HandOff("reminders/helper", "handed", dueMs: 2000);
        Assert.True(await helper.Exists("handed"), "the helper's reminder committed with the probe's state");
        await Poll.UntilAsync(async () => (await helper.Ticks()).Any(t => t.Name == "handed"), Patience, "the helper's reminder to fire");
        await Poll.UntilAsync(async () => !await helper.Exists("handed"), Patience, "the fired one-shot reminder to be removed");
        Assert.Single(await helper.Ticks(), t => t.Name == "handed");
        Assert.DoesNotContain(await probe.Ticks(), t => t.Name == "handed");
    }

    [Fact]
    public async Task A_reminder_handed_to_a_grain_said_to_be_new_fires_there_and_if_the_grain_had_stored_state_after_all_its_tick_runs_on_that_state()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        var probe = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/new-hand-off");

        // A grain that is new indeed: its activation starts empty (no read) and the tick is stored by an insert.
        var fresh = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/new-helper");
        await probe.HandOffToNewGrain("reminders/new-helper", "handed", dueMs: 100);
        await Poll.UntilAsync(async () => (await fresh.Ticks()).Count >= 1, Patience, "the new helper's reminder to fire");
        Assert.Equal("handed", Assert.Single(await fresh.Ticks()).Name);
        await Poll.UntilAsync(async () => !await fresh.Exists("handed"), Patience, "the fired one-shot reminder to be removed");

        // A grain wrongly said to be new: it has a stored tick and no activation when the reminder fires. Starting
        // empty, its write is an insert that finds the stored row; the tick must then run on an activation that read
        // the state, so neither the stored tick nor the new one is lost (and the tick is not retried on an empty state
        // for ever).
        var stored = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/not-new-helper");
        await stored.Schedule("earlier", dueMs: 50, periodMs: 0);
        await Poll.UntilAsync(async () => (await stored.Ticks()).Count >= 1, Patience, "the earlier tick to be stored");
        await stored.Deactivate();
        await probe.HandOffToNewGrain("reminders/not-new-helper", "handed", dueMs: 300);

        // Watched in the table, not through the grain: a call would start an activation that reads, hiding the case.
        await Poll.UntilAsync(async () => await HandedReminderRowsAsync(cluster.Postgres, "reminders/not-new-helper") == 0, Patience,
            "the handed reminder to be delivered and removed");
        Assert.Equal(["earlier", "handed"], (await stored.Ticks()).Select(t => t.Name));
    }

    private static async Task<long> HandedReminderRowsAsync(string postgres, string grainKey)
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(postgres);
        await using var cmd = db.CreateCommand("SELECT count(*) FROM fc_reminders WHERE grain_key = $1 AND name = 'handed'");
        cmd.Parameters.AddWithValue(grainKey);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_reminder_owned_by_a_killed_silo_fires_on_its_new_owner()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 3);
        var probe = cluster.Client.GetGrain<IReminderProbeGrain>("reminders/failover");
        await probe.Schedule("after-kill", dueMs: 2500, periodMs: 0);
        var ownerOfProbe = (await cluster.ViewAsync()).Ring.Owner(new FinCore.Runtime.GrainId("ReminderProbeGrain", "reminders/failover"))!.SiloId;
        cluster.SiloById(ownerOfProbe).Kill();

        await Poll.UntilAsync(async () => (await probe.Ticks()).Count >= 1, Patience, "the reminder to fire on a survivor");
        var tick = Assert.Single(await probe.Ticks());
        Assert.NotEqual(ownerOfProbe, tick.SiloId);
    }

    [Fact]
    public async Task A_reminder_that_came_due_while_no_silo_was_alive_fires_when_one_starts()
    {
        var db = await postgres.CreateDatabaseAsync();
        string clusterId;
        await using (var first = await TestCluster.StartAsync(postgres, silos: 1, postgres: db))
        {
            clusterId = first.ClusterId;
            await first.Client.GetGrain<IReminderProbeGrain>("reminders/overdue").Schedule("overdue", dueMs: 1000, periodMs: 0);
            first.Silos[0].Kill();
            await first.Silos[0].WaitForExitAsync(TimeSpan.FromSeconds(10));
            // Let the due time pass with no silo alive (this is the scenario, not a wait for a result).
            await Task.Delay(1500);
        }

        await using var second = await TestCluster.StartAsync(postgres, silos: 1, postgres: db, clusterId: clusterId);
        var probe = second.Client.GetGrain<IReminderProbeGrain>("reminders/overdue");
        await Poll.UntilAsync(async () => (await probe.Ticks()).Count >= 1, Patience, "the overdue reminder to fire on the new silo");
        Assert.Equal(second.Silos[0].Port, int.Parse((await probe.Ticks())[0].SiloId.Split(':', '@')[1]));
    }
}
