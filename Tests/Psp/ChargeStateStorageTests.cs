using System.Net;
using FinCore.Runtime;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Psp;

/// <summary>Where a charge's state is kept through a rolling upgrade. A charge grain keeps its state in its
/// <c>charges</c> row, which silos of versions before that cannot read: while one of them is live, new charges keep
/// their state in <c>fc_grain_state</c> as those silos expect; once none is, in the row. Either kind is processed to the
/// end, and read back from storage after the silo holding it is killed: the same charge, and the same answer to a
/// retried create.</summary>
[Collection(PspCollection.Name)]
public sealed class ChargeStateStorageTests(PspCluster fincore)
{
    private const string OlderSilo = "127.0.0.1:1@1";

    [Fact]
    public async Task While_an_older_silo_is_live_new_charges_keep_their_state_where_it_reads_it_and_both_kinds_settle_and_reload()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();

        // A silo of an older version (runtime level 0) joins: its heartbeat is fresh for the whole test.
        await ChangeMembershipAsync($"""
            INSERT INTO fc_silos (cluster_id, silo_id, address, port, status, started_at, heartbeat_at)
            VALUES ('{fincore.Cluster.ClusterId}', '{OlderSilo}', '127.0.0.1', 1, 1, now(), now() + interval '1 hour')
            """);
        // Operators see it: the older silo's level, and the cluster's (what it writes) at that level.
        var cluster = (await fincore.Http.GetAsync("/admin/v1/cluster", PaymentsCluster.AdminToken)).Json;
        Assert.Equal(0, cluster.GetProperty("runtime_level").GetInt32());
        Assert.Equal(0, cluster.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("id").GetString() == OlderSilo).GetProperty("runtime_level").GetInt32());
        var (legacy, legacyCreated) = await CreateAndSettleAsync(key, "older-silo-live");
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM fc_grain_state WHERE grain_type = 'charge' AND grain_key = '{tenant}/{legacy}'"));
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE id = '{legacy}' AND etag IS NULL AND status = 'succeeded'"));

        // It leaves: the cluster runs this version only.
        await ChangeMembershipAsync($"DELETE FROM fc_silos WHERE cluster_id = '{fincore.Cluster.ClusterId}' AND silo_id = '{OlderSilo}'");
        cluster = (await fincore.Http.GetAsync("/admin/v1/cluster", PaymentsCluster.AdminToken)).Json;
        Assert.Equal(1, cluster.GetProperty("runtime_level").GetInt32());
        Assert.All(cluster.GetProperty("silos").EnumerateArray(), s => Assert.Equal(1, s.GetProperty("runtime_level").GetInt32()));
        var (row, rowCreated) = await CreateAndSettleAsync(key, "all-silos-current");
        Assert.Equal(0, await fincore.ScalarAsync($"SELECT count(*) FROM fc_grain_state WHERE grain_type = 'charge' AND grain_key = '{tenant}/{row}'"));
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE id = '{row}' AND etag IS NOT NULL AND status = 'succeeded'"));

        var before = new Dictionary<string, string>
        {
            [legacy] = (await fincore.Http.GetAsync($"/v1/charges/{legacy}", key)).Body,
            [row] = (await fincore.Http.GetAsync($"/v1/charges/{row}", key)).Body,
        };

        // Kill -9 the silos holding them: both are read back from storage by a silo that never held them.
        var view = await fincore.Cluster.ViewAsync();
        var victims = new[] { legacy, row }.Select(id => view.Ring.Owner(new GrainId("charge", $"{tenant}/{id}"))!.SiloId).Distinct()
            .Select(fincore.Cluster.SiloById).ToList();
        if (victims.Count == fincore.Cluster.Silos.Count)
        {
            await fincore.Cluster.AddSilosAsync(1); // someone must survive to read them
        }

        foreach (var victim in victims)
        {
            victim.Kill();
        }

        foreach (var (id, body) in before)
        {
            ApiResponse read = null!;
            await Poll.UntilAsync(async () => (read = await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Status == HttpStatusCode.OK,
                TimeSpan.FromSeconds(30), $"charge {id} to be readable from a survivor");
            Assert.Equal(body, read.Body);
        }

        // A retried create is answered as the first one was, for either kind.
        var legacyReplay = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4242, customer: null), "older-silo-live");
        Assert.Equal((HttpStatusCode.Accepted, legacyCreated), (legacyReplay.Status, legacyReplay.Body));
        var rowReplay = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4242, customer: null), "all-silos-current");
        Assert.Equal((HttpStatusCode.Accepted, rowCreated), (rowReplay.Status, rowReplay.Body));

        // Back to two silos for the other tests.
        foreach (var victim in victims)
        {
            fincore.Cluster.Silos.Remove(victim);
            await victim.DisposeAsync();
        }

        if (fincore.Cluster.Silos.Count < 2)
        {
            await fincore.Cluster.AddSilosAsync(2 - fincore.Cluster.Silos.Count);
        }
    }

    /// <summary>Creates a charge and waits for it to succeed; returns its id and the 202's body.</summary>
    private async Task<(string Id, string Created)> CreateAndSettleAsync(string key, string idempotencyKey)
    {
        var created = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4242, customer: null), idempotencyKey);
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        var id = created.Json.GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(30), $"charge {id} to succeed");
        return (id, created.Body);
    }

    /// <summary>Applies a change to the membership table as a joining or leaving silo does (with the cluster's version),
    /// and waits until every silo has handed that version over, so every silo's view has it.</summary>
    private async Task ChangeMembershipAsync(string change)
    {
        await using var conn = new NpgsqlConnection(fincore.Database);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand(change, conn))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        var version = await fincore.ScalarAsync(
            $"UPDATE fc_membership_version SET version = version + 1 WHERE cluster_id = '{fincore.Cluster.ClusterId}' RETURNING version");
        await Poll.UntilAsync(async () => await fincore.ScalarAsync($"""
            SELECT count(*) FROM fc_silos WHERE cluster_id = '{fincore.Cluster.ClusterId}' AND status = 2 AND seen_version < {version}
            """) == 0, TimeSpan.FromSeconds(30), $"every silo to hand membership version {version} over");
    }
}
