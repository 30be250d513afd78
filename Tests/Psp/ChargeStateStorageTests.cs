using System.Net;
using System.Text.Json;
using FinCore.Grains;
using FinCore.Grains.Charges;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Psp;

/// <summary>A database written by FinCore's own runtime (before Orleans) keeps working: charges whose state that build
/// stored as JSON in <c>fc_grain_state</c> (their <c>charges</c> row beside it, with no guard columns) are read as they
/// are, one it left processing with its attempt in the runtime's reminder table is taken up and settled once, and new
/// charges keep their state in their row.</summary>
[Collection(PspCollection.Name)]
public sealed class ChargeStateStorageTests(PspCluster fincore)
{
    /// <summary>The JSON the runtime stored states in (web defaults: camelCase names, enums as numbers).</summary>
    private static readonly JsonSerializerOptions RuntimeJson = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Charges_stored_by_the_runtime_before_Orleans_are_read_and_one_it_left_processing_settles_once()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var settled = Ids.New("ch_");
        var stranded = Ids.New("ch_");
        var at = DateTime.UtcNow.AddMinutes(-5);
        await StoreAsRuntimeAsync(tenant, settled, ChargeStatus.Succeeded, at, "psp_legacy");
        await StoreAsRuntimeAsync(tenant, stranded, ChargeStatus.Processing, at, null);
        await ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS fc_reminders (cluster_id text NOT NULL, grain_type text NOT NULL, grain_key text NOT NULL,
                name text NOT NULL, first_due_at timestamptz NOT NULL, due_at timestamptz NOT NULL, period_ms bigint NOT NULL,
                version bigint NOT NULL, grain_is_new boolean NOT NULL DEFAULT false, PRIMARY KEY (cluster_id, grain_type, grain_key, name))
            """);
        await ExecuteAsync($"""
            INSERT INTO fc_reminders (cluster_id, grain_type, grain_key, name, first_due_at, due_at, period_ms, version)
            VALUES ('local', 'psp-retry', '{tenant}/{stranded}', 'attempt', now() - interval '5 minutes', now() - interval '5 minutes', -1, 1)
            """);

        // The settled one reads as it was stored.
        var read = (await fincore.Http.GetAsync($"/v1/charges/{settled}", key)).Json;
        Assert.Equal(("succeeded", "psp_legacy", 4242L), (read.GetProperty("status").GetString(), read.GetProperty("psp_reference").GetString(), read.GetProperty("amount").GetInt64()));

        // The one left processing is found by the charge sweeper (no Orleans reminder is waiting for it), sent once, settled.
        await Poll.UntilAsync(async () => (await fincore.Http.GetAsync($"/v1/charges/{stranded}", key)).Json.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(60), $"charge {stranded} to be settled");
        var ledger = JsonDocument.Parse(await fincore.PspHttp.GetStringAsync("/admin/ledger")).RootElement;
        Assert.Equal(1, ledger.GetProperty("captures").EnumerateArray().Count(c => c.GetProperty("idempotency_key").GetString() == stranded));
        Assert.Equal(0, await fincore.ScalarAsync("SELECT count(*) FROM fc_reminders"));
        // It stays where the runtime kept it, its row in step.
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM fc_grain_state WHERE grain_type = 'charge' AND grain_key = '{tenant}/{stranded}' AND data::text LIKE '%succeeded%'"));
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE id = '{stranded}' AND status = 'succeeded' AND etag IS NULL"));

        // A new charge keeps its state in its row.
        var created = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4242, customer: null), "after-the-move");
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        var id = created.Json.GetProperty("id").GetString()!;
        await Poll.UntilAsync(async () => (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(30), $"charge {id} to succeed");
        Assert.Equal(0, await fincore.ScalarAsync($"SELECT count(*) FROM fc_grain_state WHERE grain_type = 'charge' AND grain_key = '{tenant}/{id}'"));
        Assert.Equal(1, await fincore.ScalarAsync($"SELECT count(*) FROM charges WHERE id = '{id}' AND etag IS NOT NULL AND status = 'succeeded'"));
    }

    /// <summary>Writes a charge as the runtime did: its state as JSON in <c>fc_grain_state</c>, its row and its creation
    /// event beside it.</summary>
    private async Task StoreAsRuntimeAsync(string tenant, string id, ChargeStatus status, DateTime at, string? reference)
    {
        var first = new Charge
        {
            Id = id, Amount = 4242, Currency = "BRL", Status = "created", PaymentMethod = "pm_card_visa", Risk = new RiskAssessment(0, "allow"),
            CreatedAt = at, UpdatedAt = at,
        };
        var now = first with { Status = status.ToApi(), PspReference = reference, Attempts = reference is null ? 0 : 1 };
        var state = new ChargeState
        {
            TenantId = tenant, Charge = now, Status = status, Fingerprint = "legacy", FirstResponse = first, AttemptScheduled = true,
        };
        var json = JsonSerializer.Serialize(state, RuntimeJson);
        var psp = reference is null ? "NULL" : $"'{reference}'";
        await ExecuteAsync($$"""
            INSERT INTO fc_grain_state (grain_type, grain_key, state_name, etag, write_id, data, updated_at)
            VALUES ('charge', '{{tenant}}/{{id}}', 'charge', 3, gen_random_uuid(), '{{json}}', now());
            INSERT INTO charges (tenant_id, id, amount, currency, status, payment_method, metadata, attempts, psp_reference, risk_score,
                                 risk_decision, created_at, updated_at)
            VALUES ('{{tenant}}', '{{id}}', 4242, 'BRL', '{{status.ToApi()}}', 'pm_card_visa', '{}', {{now.Attempts}}, {{psp}},
                    0, 'allow', '{{at:O}}', '{{at:O}}');
            """);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(fincore.Database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
