using FinCore.Grains;
using System.Net;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Payments;

[Collection(PaymentsCollection.Name)]
public sealed class DurabilityAndAuditTests(PaymentsCluster fincore)
{
    [Fact]
    public async Task The_audit_chain_verifies_and_altering_one_stored_entry_is_reported()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        for (var i = 0; i < 5; i++)
        {
            var id = (await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 100 + i))).Json.GetProperty("id").GetString();
            if (i % 2 == 0)
            {
                await fincore.Http.PostAsync($"/v1/charges/{id}/cancel", key, "{}");
            }
        }

        // 5 created + 3 canceled = 8 events, sealed by the tenant's audit grain within a second or so.
        ApiResponse verify = null!;
        await Poll.UntilAsync(async () =>
        {
            verify = await fincore.Http.GetAsync($"/admin/v1/audit/verify?tenant={tenant}", PaymentsCluster.AdminToken);
            return verify.Json.GetProperty("entries").GetInt64() == 8;
        }, TimeSpan.FromSeconds(20), "8 audit entries to be sealed");
        Assert.True(verify.Json.GetProperty("ok").GetBoolean());

        // Events and the chain cannot be changed through SQL …
        await using var conn = new NpgsqlConnection(fincore.Database);
        await conn.OpenAsync();
        var third = $"(SELECT event_pk FROM audit_chain WHERE tenant_id = '{tenant}' AND seq = 3)";
        foreach (var sql in new[]
        {
            $"UPDATE events SET payload = jsonb_set(payload::jsonb, '{{amount}}', '1')::json WHERE id = {third}",
            $"DELETE FROM events WHERE id = {third}",
            $"UPDATE audit_chain SET hash = prev_hash WHERE tenant_id = '{tenant}' AND seq = 3",
        })
        {
            await using var update = new NpgsqlCommand(sql, conn);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }

        // … and when someone with superuser rights does it anyway, verification names the entry.
        await using (var tamper = new NpgsqlCommand(
            "SET session_replication_role = replica; " +
            $"UPDATE events SET payload = jsonb_set(payload::jsonb, '{{amount}}', '1')::json WHERE id = {third}; " +
            "SET session_replication_role = origin;", conn))
        {
            await tamper.ExecuteNonQueryAsync();
        }

        var broken = await fincore.Http.GetAsync($"/admin/v1/audit/verify?tenant={tenant}", PaymentsCluster.AdminToken);
        Assert.False(broken.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(3, broken.Json.GetProperty("broken_at").GetProperty("sequence").GetInt64());
        Assert.Equal(2, broken.Json.GetProperty("entries").GetInt64());
    }

    [Fact]
    public async Task A_charge_acknowledged_with_202_survives_kill_9_of_the_silo_that_owned_it()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var created = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 31337));
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        var id = created.Json.GetProperty("id").GetString()!;

        var victim = await fincore.Cluster.HostOfAsync(fincore.Cluster.Client.GetGrain<IChargeGrain>(Ids.ChargeKey(tenant, id)));
        victim.Kill();

        ApiResponse read = null!;
        await Poll.UntilAsync(async () => (read = await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the charge to be readable from a survivor");
        Assert.Equal(created.Body, read.Body);

        // Bring the cluster back to two silos for the other tests.
        fincore.Cluster.Silos.Remove(victim);
        await victim.DisposeAsync();
        await fincore.Cluster.AddSilosAsync(1);
    }
}
