using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FinCore.Grains.Storage;
using FinCore.Runtime;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Webhooks;

public sealed class WebhookState
{
    /// <summary>The audit sequence number of the last event delivered (or given up on).</summary>
    public long Cursor { get; set; }

    public int Attempt { get; set; }
    public DateTime FirstFailureAt { get; set; }
    public DateTime RetryAt { get; set; }
}

/// <summary>Walks the tenant's sealed events in chain order and POSTs each to the endpoint with
/// <c>FinCore-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")</c>. A failure stops the walk and schedules the same
/// event again with exponential backoff and full jitter, so events arrive in order, each at least once.</summary>
public sealed class WebhookGrain(Database database, IHttpClientFactory httpClients, IOptions<WebhookOptions> options,
    [PersistentState("webhook")] IPersistentState<WebhookState> state) : Grain, IWebhookGrain, IRemindable
{
    private const string Deliver = "deliver";
    private const int Batch = 20;
    private readonly WebhookOptions _options = options.Value;

    public async Task Kick()
    {
        var due = state.State.RetryAt - DateTime.UtcNow;
        await RegisterOrUpdateReminder(Deliver, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var tenant = GetPrimaryKeyString();
        var events = new List<(long Seq, string Id, string Type, DateTime At, string Payload, string Url, string Secret)>();
        await using (var cmd = database.DataSource.CreateCommand(PaymentsSql.WebhookEvents))
        {
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(state.State.Cursor);
            cmd.Parameters.AddWithValue(Batch);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                events.Add((r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetDateTime(3), r.GetString(4), r.GetString(5), r.GetString(6)));
            }
        }

        var client = httpClients.CreateClient("webhooks");
        foreach (var e in events)
        {
            var body = $"{{\"id\":\"{e.Id}\",\"type\":\"{e.Type}\",\"created_at\":\"{e.At.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}\",\"data\":{{\"object\":{e.Payload}}}}}";
            var (ok, code, error) = await PostAsync(client, e.Url, e.Secret, body);
            state.State.Attempt++;
            await LogAsync(tenant, e.Id, e.Type, e.Url, code, ok, error);
            if (!ok && DateTime.UtcNow - (state.State.FirstFailureAt == default ? DateTime.UtcNow : state.State.FirstFailureAt) < _options.GiveUpAfter)
            {
                if (state.State.FirstFailureAt == default)
                {
                    state.State.FirstFailureAt = DateTime.UtcNow;
                }

                var ceiling = Math.Min(_options.MaxDelay.TotalMilliseconds, _options.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(state.State.Attempt, 30)));
                var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
                state.State.RetryAt = DateTime.UtcNow + delay;
                await state.WriteStateAsync();
                await RegisterOrUpdateReminder(Deliver, delay, Timeout.InfiniteTimeSpan);
                return;
            }

            state.State.Cursor = e.Seq;
            state.State.Attempt = 0;
            state.State.FirstFailureAt = default;
            state.State.RetryAt = default;
            await state.WriteStateAsync();
        }

        if (events.Count == Batch)
        {
            await RegisterOrUpdateReminder(Deliver, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task<(bool Ok, int? Code, string? Error)> PostAsync(HttpClient client, string url, string secret, string body)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
        try
        {
            using var cts = new CancellationTokenSource(_options.Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("FinCore-Signature", $"t={t},v1={mac}");
            using var response = await client.SendAsync(request, cts.Token);
            var ok = (int)response.StatusCode is >= 200 and < 300;
            PaymentsMetrics.WebhookDelivery(ok ? "delivered" : "rejected");
            return (ok, (int)response.StatusCode, null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            PaymentsMetrics.WebhookDelivery(e is OperationCanceledException ? "timeout" : "unreachable");
            return (false, null, e is OperationCanceledException ? "timed out" : e.Message);
        }
    }

    private async Task LogAsync(string tenant, string eventId, string type, string url, int? code, bool delivered, string? error)
    {
        await using var cmd = database.DataSource.CreateCommand(PaymentsSql.LogDelivery);
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(eventId);
        cmd.Parameters.AddWithValue(type);
        cmd.Parameters.AddWithValue(url);
        cmd.Parameters.AddWithValue(state.State.Attempt);
        cmd.Parameters.AddWithValue(code is null ? DBNull.Value : code.Value);
        cmd.Parameters.AddWithValue(delivered);
        cmd.Parameters.AddWithValue(error is null ? DBNull.Value : error);
        await cmd.ExecuteNonQueryAsync();
    }
}
