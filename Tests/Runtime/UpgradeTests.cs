using FinCore.Runtime.Membership;
using FinCore.TestGrains;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Runtime;

/// <summary>Rolling upgrades go forward: a cluster takes on its silos' runtime level once every live silo is at it, and
/// from then on a silo of a lower level (an older build, rolled back to) is refused instead of misreading data written
/// at the higher level.</summary>
[Collection(ClusterCollection.Name)]
public sealed class UpgradeTests(PostgresServer postgres)
{
    [Fact]
    public async Task The_cluster_takes_its_silos_level_and_then_refuses_a_silo_of_a_lower_one_with_a_clear_message()
    {
        await using var cluster = await TestCluster.StartAsync(postgres, silos: 1);
        await Poll.UntilAsync(async () => (await cluster.ViewAsync()).ClusterLevel == RuntimeLevel.Current,
            TimeSpan.FromSeconds(15), $"the cluster to be at runtime level {RuntimeLevel.Current}");
        Assert.Equal(RuntimeLevel.Current, (await cluster.ViewAsync()).WriteLevel);

        // The cluster moves on to a level this build does not read (as a later build would take it): a silo of this
        // build is now the older one, and may not join.
        await using (var conn = new NpgsqlConnection(cluster.Postgres))
        {
            await conn.OpenAsync();
            await using var raise = new NpgsqlCommand("UPDATE fc_membership_version SET level = $1 WHERE cluster_id = $2", conn);
            raise.Parameters.AddWithValue(RuntimeLevel.Current + 1);
            raise.Parameters.AddWithValue(cluster.ClusterId);
            Assert.Equal(1, await raise.ExecuteNonQueryAsync());
        }

        await using var older = SiloProcess.Start(cluster.Postgres, cluster.ClusterId, cluster.Secret);
        Assert.True(await older.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the silo of the lower level should exit");
        Assert.Equal(2, older.ExitCode);
        var why = $"holds data of runtime level {RuntimeLevel.Current + 1}, and this build reads up to level {RuntimeLevel.Current}";
        await Poll.UntilAsync(() => older.Log.Contains(why, StringComparison.Ordinal), TimeSpan.FromSeconds(5), $"the silo to say why:\n{older.Log}");
        Assert.DoesNotContain((await cluster.ViewAsync()).Silos, s => s.Port == older.Port);

        // The silo already in the cluster goes on serving.
        Assert.Equal(1, await cluster.Client.GetGrain<ICounterGrain>("upgrade/after-refusal").Increment());
    }
}
