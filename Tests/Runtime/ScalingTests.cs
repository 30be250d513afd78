using FinCore.Runtime.Membership;
using FinCore.TestGrains;
using FinCore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FinCore.Tests.Runtime;

[Collection(ClusterCollection.Name)]
public sealed class ScalingTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_shut_down_gracefully_under_a_steady_stream_of_calls_fails_none_of_them()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 3);
        await using var load = new CallLoad(cluster, "drain");
        await load.WaitForCallsAsync(500, TimeSpan.FromSeconds(30));

        var leaving = cluster.Silos[1];
        var leavingId = TestCluster.Find(await cluster.ViewAsync(), leaving)!.SiloId;
        leaving.Terminate();
        Assert.True(await leaving.WaitForExitAsync(TimeSpan.FromSeconds(40)), $"the silo did not exit after SIGTERM:\n{leaving.Log}");
        Assert.True(leaving.ExitCode == 0, $"exit code {leaving.ExitCode}:\n{leaving.Log}");
        await load.WaitForCallsAsync(500, TimeSpan.FromSeconds(30));
        await load.StopAsync();

        output.WriteLine($"{load.Calls} calls, {load.Failures.Count} failed");
        Assert.Empty(load.Failures);
        Assert.Equal(SiloStatus.Dead, (await cluster.ViewAsync()).Find(leavingId)!.Status);
        await load.AssertNothingLostAsync();
    }

    [Fact]
    public async Task A_silo_joining_under_load_becomes_active_and_takes_its_share_without_failing_calls()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        await using var load = new CallLoad(cluster, "join");
        await load.WaitForCallsAsync(500, TimeSpan.FromSeconds(30));

        var joined = (await cluster.AddSilosAsync(1))[0];
        var joinedId = TestCluster.Find(await cluster.ViewAsync(), joined)!.SiloId;
        await Poll.UntilAsync(async () =>
        {
            var where = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => cluster.Client.GetGrain<ICounterGrain>($"join/{i}").WhereAmI()));
            return where.Count(w => w == joinedId) >= 5;
        }, TimeSpan.FromSeconds(20), "the new silo to host a share of the grains");
        await load.WaitForCallsAsync(500, TimeSpan.FromSeconds(30));
        await load.StopAsync();

        output.WriteLine($"{load.Calls} calls, {load.Failures.Count} failed");
        Assert.Empty(load.Failures);
        await load.AssertNothingLostAsync();
    }

    [Fact]
    public async Task A_silo_joining_while_reminders_tick_gets_its_grains_only_after_the_others_let_go_of_them()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        var probes = Enumerable.Range(0, 60).Select(i => cluster.Client.GetGrain<IReminderProbeGrain>($"handover/{i}")).ToList();
        await Task.WhenAll(probes.Select(p => p.ScheduleWithState("tick", dueMs: 50, times: 150)));
        await Task.Delay(TimeSpan.FromSeconds(1));

        // The newcomer is Active as soon as it has joined; the others see it up to a membership refresh later. Until
        // they do, they fire the reminders of the grains that are now its own. Its reminders (and calls) must not start
        // a second activation of such a grain meanwhile: two would write over each other's ticks.
        var joined = (await cluster.AddSilosAsync(1, waitForViews: false))[0];
        var joinedId = TestCluster.Find(await cluster.ViewAsync(), joined)!.SiloId;
        await Poll.UntilAsync(async () => (await Task.WhenAll(probes.Select(p => p.Ticks()))).All(t => t.Count == 150), TimeSpan.FromSeconds(60),
            "every probe's 150 ticks");

        var ticks = await Task.WhenAll(probes.Select(p => p.Ticks()));
        Assert.Contains(ticks, t => t.Any(x => x.SiloId == joinedId)); // the newcomer took some of them over
        var logs = string.Join("\n", cluster.Silos.Select(s => s.Log));
        Assert.DoesNotContain("conflicted with a newer version", logs);
        foreach (var t in ticks)
        {
            // One owner at a time: once a grain's ticks come from another silo, they never come from the first again.
            var owners = t.Select(x => x.SiloId).Where((id, i) => i == 0 || t[i - 1].SiloId != id).ToList();
            Assert.True(owners.Count == owners.Distinct().Count(), "ticks went back to a silo that had let go: " + string.Join(" -> ", owners));
        }
    }

    [Fact]
    public async Task A_silo_declared_dead_by_the_cluster_stops_itself()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 2);
        var victim = cluster.Silos[0];
        var victimId = TestCluster.Find(await cluster.ViewAsync(), victim)!.SiloId;

        // What a peer does when it cannot reach the silo (a partition): CAS the row to Dead.
        await using (var conn = new Npgsql.NpgsqlConnection(cluster.Postgres))
        {
            await conn.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("""
                WITH v AS (UPDATE fc_membership_version SET version = version + 1 WHERE cluster_id = $1)
                UPDATE fc_silos SET status = 4 WHERE cluster_id = $1 AND silo_id = $2
                """, conn);
            cmd.Parameters.AddWithValue(cluster.ClusterId);
            cmd.Parameters.AddWithValue(victimId);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the silo declared Dead kept running");
        Assert.Contains("marked Dead", victim.Log, StringComparison.Ordinal);

        // The survivor serves everything.
        var survivorId = TestCluster.Find(await cluster.ViewAsync(), cluster.Silos[1])!.SiloId;
        Assert.Equal(survivorId, await cluster.Client.GetGrain<ICounterGrain>("after-dead/1").WhereAmI());
    }
}
