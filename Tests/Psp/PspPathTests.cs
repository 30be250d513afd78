using FinCore.Grains;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Psp;

[Collection(PspCollection.Name)]
public sealed class PspPathTests(PspCluster fincore) : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public Task InitializeAsync() => SetFaultsAsync(new { });

    public Task DisposeAsync() => SetFaultsAsync(new { });

    private async Task SetFaultsAsync(object faults)
    {
        using var response = await fincore.PspHttp.PutAsync("/admin/faults", new StringContent(JsonSerializer.Serialize(faults), Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A metric summed over every running silo's /metrics.</summary>
    private async Task<double> MetricSumAsync(string name)
    {
        double sum = 0;
        foreach (var silo in fincore.Cluster.Silos.Where(s => !s.HasExited))
        {
            sum += await silo.MetricAsync(name);
        }

        return sum;
    }

    private async Task<JsonElement> LedgerAsync() => JsonDocument.Parse(await fincore.PspHttp.GetStringAsync("/admin/ledger")).RootElement;

    private static int CapturesOf(JsonElement ledger, string chargeId) =>
        ledger.GetProperty("captures").EnumerateArray().Count(c => c.GetProperty("idempotency_key").GetString() == chargeId);

    private async Task<JsonElement> WaitForAsync(string key, string id, string status, TimeSpan? timeout = null)
    {
        JsonElement charge = default;
        try
        {
            await Poll.UntilAsync(async () =>
            {
                charge = (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json;
                return charge.GetProperty("status").GetString() == status;
            }, timeout ?? Patience, $"charge {id} to be {status}", intervalMs: 100);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last seen: {charge}", e);
        }

        return charge;
    }

    private async Task<string> CreateAsync(string key, long amount = 1500) =>
        (await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: amount, customer: null))).Json.GetProperty("id").GetString()!;

    [Fact]
    public async Task A_charge_is_captured_once_and_succeeds_and_a_decline_is_final_after_one_attempt()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        var paid = await WaitForAsync(key, await CreateAsync(key), "succeeded");
        Assert.Equal(1, paid.GetProperty("attempts").GetInt32());
        Assert.StartsWith("psp_", paid.GetProperty("psp_reference").GetString());
        Assert.Equal(1, CapturesOf(await LedgerAsync(), paid.GetProperty("id").GetString()!));

        // Settled at the first attempt: nothing of the retry grain is left behind to fire (no reminder, no state).
        var grainKey = $"{tenant}/{paid.GetProperty("id").GetString()}";
        Assert.Equal(0, await fincore.ScalarAsync($"SELECT count(*) FROM orleans_reminders WHERE grain_id = 'psp-retry/{grainKey}'"));
        Assert.Equal(0, await fincore.ScalarAsync($"SELECT count(*) FROM fc_grain_state WHERE grain_type = 'psp-retry' AND grain_key = '{grainKey}'"));

        // Nor in memory: a charge settled at its first attempt never activates a retry grain (its silo's sender made the
        // attempt), so none is left holding a silo's memory until idle collection.
        var retryGrainsBefore = await fincore.Cluster.ActivationsAsync("psp-retry");
        var more = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateAsync(key)));
        foreach (var id in more)
        {
            await WaitForAsync(key, id, "succeeded");
        }

        await Poll.UntilAsync(async () => await fincore.Cluster.ActivationsAsync("psp-retry") <= retryGrainsBefore,
            TimeSpan.FromSeconds(10), "the settled charges' retry grains to deactivate");

        await SetFaultsAsync(new { decline_rate = 1.0 });
        var declined = await WaitForAsync(key, await CreateAsync(key), "failed");
        Assert.Contains(declined.GetProperty("failure_code").GetString(), new[] { "card_declined", "insufficient_funds" });
        Assert.Equal(1, declined.GetProperty("attempts").GetInt32());
        Assert.Equal(0, CapturesOf(await LedgerAsync(), declined.GetProperty("id").GetString()!));

        var trail = (await fincore.Http.GetAsync($"/v1/charges/{declined.GetProperty("id").GetString()}/events", key)).Json.GetProperty("data");
        Assert.Equal(["charge.created", "charge.processing", "charge.failed"], trail.EnumerateArray().Select(e => e.GetProperty("type").GetString()));

        // Each event carries the charge as it stood then (created and processing are written in one commit when there
        // is no cancel window, each as its own event).
        Assert.All(trail.EnumerateArray(), e => Assert.Equal(
            e.GetProperty("type").GetString(), "charge." + e.GetProperty("data").GetProperty("object").GetProperty("status").GetString()));
        Assert.Equal(3, trail.EnumerateArray().Select(e => e.GetProperty("id").GetString()).Distinct().Count());
    }

    /// <summary>This cluster has no cancel window (<c>Psp:StartDelay</c> 0): the POST answers the created charge, which
    /// is stored processing by the same commit, so it is never seen created and cannot be canceled.</summary>
    [Fact]
    public async Task Without_a_cancel_window_a_charge_is_processing_from_its_creation_and_cannot_be_canceled()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var created = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 1500, customer: null));
        Assert.Equal(HttpStatusCode.Accepted, created.Status);
        Assert.Equal("created", created.Json.GetProperty("status").GetString());
        var id = created.Json.GetProperty("id").GetString()!;

        Assert.NotEqual("created", (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString());
        var cancel = await fincore.Http.PostAsync($"/v1/charges/{id}/cancel", key, "{}");
        Assert.Equal(HttpStatusCode.Conflict, cancel.Status);
        Assert.Equal("invalid_state", cancel.Json.GetProperty("code").GetString());
        await WaitForAsync(key, id, "succeeded");
    }

    [Fact]
    public async Task When_the_psp_captures_but_the_answer_is_lost_there_is_no_second_capture_and_the_charge_succeeds()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        await SetFaultsAsync(new { timeout_rate = 1.0 });
        var id = await CreateAsync(key);
        var charge = await WaitForAsync(key, id, "succeeded");
        var ledger = await LedgerAsync();
        Assert.Equal(1, CapturesOf(ledger, id));
        Assert.Equal(0, ledger.GetProperty("totals").GetProperty("double_captures").GetInt32());
        Assert.Equal(1, charge.GetProperty("attempts").GetInt32()); // the second turn asked the PSP instead of sending again
    }

    [Fact]
    public async Task Charges_acknowledged_during_a_30_s_psp_outage_all_succeed_after_it_each_captured_once()
    {
        var (_, key) = await fincore.CreateTenantAsync(limits: new { velocity_per_payment_method = 1000 });
        var retriesBefore = await MetricSumAsync("fincore_psp_retries_total");
        await SetFaultsAsync(new { outage = true });
        var ids = new List<string>();
        var waited = 0.0;
        var outage = System.Diagnostics.Stopwatch.StartNew();
        while (outage.Elapsed < TimeSpan.FromSeconds(30))
        {
            ids.Add(await CreateAsync(key));
            await Task.Delay(1000); // traffic during the outage: one charge a second
            waited = Math.Max(waited, await MetricSumAsync("fincore_psp_outage_waiting"));
        }

        // Once the circuit opened, the charges waited for the PSP instead of each retrying on its own backoff (100 ms
        // doubling to 2 s here: by that arithmetic ~15 retries per charge over the outage, before they waited).
        Assert.True(waited > 0, "no charge waited out the outage");
        var retries = await MetricSumAsync("fincore_psp_retries_total") - retriesBefore;
        Assert.True(retries < 5 * ids.Count, $"{retries} retries for {ids.Count} charges during the outage");

        foreach (var id in ids)
        {
            Assert.NotEqual("succeeded", (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString());
        }

        await SetFaultsAsync(new { });
        foreach (var id in ids)
        {
            await WaitForAsync(key, id, "succeeded");
        }

        var ledger = await LedgerAsync();
        Assert.All(ids, id => Assert.Equal(1, CapturesOf(ledger, id)));
        Assert.Equal(0, ledger.GetProperty("totals").GetProperty("double_captures").GetInt32());
    }

    [Fact]
    public async Task Exhausted_retries_dead_letter_the_charge_and_operators_can_retry_or_discard()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        await SetFaultsAsync(new { outage = true });
        var retried = await CreateAsync(key);
        var discarded = await CreateAsync(key);
        var dead = await WaitForAsync(key, retried, "dead_lettered", TimeSpan.FromSeconds(90));
        await WaitForAsync(key, discarded, "dead_lettered", TimeSpan.FromSeconds(30));
        Assert.Equal("psp_unavailable", dead.GetProperty("failure_code").GetString());
        Assert.True(dead.GetProperty("attempts").GetInt32() > 1);

        var list = await fincore.Http.GetAsync("/admin/v1/dead-letters", PaymentsCluster.AdminToken);
        Assert.Contains(list.Json.GetProperty("data").EnumerateArray(), d => d.GetProperty("charge_id").GetString() == retried);
        Assert.Contains("ALERT charge " + retried, fincore.Cluster.Logs(), StringComparison.Ordinal);
        Assert.True(await MetricSumAsync("fincore_dead_letters_added_total") >= 2, "the dead-letter alert metric did not move");
        Assert.True(await MetricSumAsync("fincore_dead_letters_size") >= 2);
        var trail = (await fincore.Http.GetAsync($"/v1/charges/{retried}/events", key)).Json.GetProperty("data");
        Assert.Contains(trail.EnumerateArray(), e => e.GetProperty("type").GetString() == "charge.dead_lettered");

        await SetFaultsAsync(new { });
        var retry = await fincore.Http.PostAsync($"/admin/v1/dead-letters/{retried}/retry", PaymentsCluster.AdminToken, "{}");
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal("processing", retry.Json.GetProperty("status").GetString());
        await WaitForAsync(key, retried, "succeeded");

        var discard = await fincore.Http.PostAsync($"/admin/v1/dead-letters/{discarded}/discard", PaymentsCluster.AdminToken, "{}");
        Assert.Equal("failed", discard.Json.GetProperty("status").GetString());
        Assert.Equal("discarded", discard.Json.GetProperty("failure_code").GetString());
        Assert.Equal(0, CapturesOf(await LedgerAsync(), discarded));
        var after = await fincore.Http.GetAsync("/admin/v1/dead-letters", PaymentsCluster.AdminToken);
        Assert.DoesNotContain(after.Json.GetProperty("data").EnumerateArray(), d => d.GetProperty("charge_id").GetString() is var c && (c == retried || c == discarded));
        Assert.Equal(HttpStatusCode.Conflict, (await fincore.Http.PostAsync($"/admin/v1/dead-letters/{retried}/discard", PaymentsCluster.AdminToken, "{}")).Status);
    }

    [Fact]
    public async Task An_async_result_arrives_by_signed_callback_and_duplicated_or_reordered_callbacks_change_nothing()
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        await SetFaultsAsync(new { async_rate = 1.0 });
        var id = await CreateAsync(key);
        var charge = await WaitForAsync(key, id, "succeeded");
        var reference = charge.GetProperty("psp_reference").GetString();
        var events = await fincore.ScalarAsync($"SELECT count(*) FROM events WHERE tenant_id = '{tenant}' AND charge_id = '{id}'");

        // The same result again, and a contradicting one arriving late: both absorbed.
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(id, reference, "captured")).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallbackAsync(id, reference, "declined")).Status);
        Assert.Equal("succeeded", (await fincore.Http.GetAsync($"/v1/charges/{id}", key)).Json.GetProperty("status").GetString());
        Assert.Equal(events, await fincore.ScalarAsync($"SELECT count(*) FROM events WHERE tenant_id = '{tenant}' AND charge_id = '{id}'"));

        // A callback without the right signature is refused.
        Assert.Equal(HttpStatusCode.Unauthorized, (await CallbackAsync(id, reference, "declined", secret: "not-the-psp-secret-at-all")).Status);
    }

    private Task<ApiResponse> CallbackAsync(string id, string? reference, string status, string secret = PaymentsCluster.PspSecret)
    {
        var body = JsonSerializer.Serialize(new { idempotency_key = id, reference, status, decline_code = status == "declined" ? "card_declined" : null });
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var mac = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
        return fincore.Http.SendAsync(HttpMethod.Post, "/v1/psp/webhook", null, body, new Dictionary<string, string> { ["Psp-Signature"] = $"t={t},v1={mac}" });
    }

    /// <summary>The first attempt is scheduled by the charge's creation and the retry grain writes nothing before its
    /// request goes out: all the new owner has is the overdue reminder and the charge (already processing).</summary>
    [Fact]
    public Task A_first_attempt_in_flight_on_a_killed_silo_is_taken_over_by_another_without_a_second_capture() =>
        KillTheOwnerWhileProcessingAsync(new { latency_ms = new { p50 = 900, p99 = 900 } }); // in flight for 0.9 s (attempt timeout: 1 s)

    /// <summary>After a refused attempt the retry grain has its state and next reminder stored.</summary>
    [Fact]
    public Task A_retry_in_progress_on_a_killed_silo_resumes_on_another_and_succeeds() =>
        KillTheOwnerWhileProcessingAsync(new { outage = true });

    /// <summary>With <paramref name="faults"/> set, kills the silo of a charge that is processing (the retry grain is
    /// placed with its charge), lifts the faults, and expects the charge to succeed with one capture.</summary>
    private async Task KillTheOwnerWhileProcessingAsync(object faults)
    {
        var (tenant, key) = await fincore.CreateTenantAsync();
        await SetFaultsAsync(faults);
        var id = await CreateAsync(key);
        await WaitForAsync(key, id, "processing");

        var victim = await fincore.Cluster.HostOfAsync(fincore.Cluster.Client.GetGrain<IChargeGrain>(Ids.ChargeKey(tenant, id)));
        victim.Kill();
        await SetFaultsAsync(new { });

        await WaitForAsync(key, id, "succeeded");
        Assert.Equal(1, CapturesOf(await LedgerAsync(), id));

        fincore.Cluster.Silos.Remove(victim);
        await victim.DisposeAsync();
        await fincore.Cluster.AddSilosAsync(1);
    }
}
