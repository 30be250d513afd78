using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Webhooks;

[GenerateSerializer, Alias("fincore.webhook-state")]
public sealed class WebhookState : OutboxState
{
    /// <summary>Every deliverable event up to this audit sequence number was delivered, given up on, or is in
    /// <see cref="Held"/>.</summary>
    [Id(0)]
    public long Cursor { get; set; }

    /// <summary>Events behind the cursor still to deliver: each one failed (or follows a failed event of its charge),
    /// retried with its own backoff. At most <see cref="WebhookGrain.MaxHeld"/>.</summary>
    [Id(1)]
    public List<HeldEvent> Held { get; set; } = [];

    /// <summary>Rounds in a row in which every attempt failed (the endpoint looks down); the grain backs off as a whole.</summary>
    [Id(2)]
    public int FailedRounds { get; set; }

    /// <summary>No round before this time (the backoff of a failed round).</summary>
    [Id(3)]
    public DateTime RetryAt { get; set; }
}

/// <summary>An event behind the webhook cursor still to deliver.</summary>
/// <param name="Seq">The event's audit sequence number.</param>
/// <param name="ChargeId">Its charge: the charge's later events wait behind it.</param>
/// <param name="Attempts">Attempts so far (0: held only because an earlier event of its charge is).</param>
/// <param name="FirstFailedAt">Its first failed attempt: it is given up on <see cref="WebhookOptions.GiveUpAfter"/> later.</param>
/// <param name="NextAt">Its next attempt is due then (after a failure: exponential backoff with full jitter).</param>
[GenerateSerializer, Immutable, Alias("fincore.held-event")]
public sealed record HeldEvent(long Seq, string ChargeId, int Attempts, DateTime FirstFailedAt, DateTime NextAt);

/// <summary>Walks the tenant's sealed events in chain order and POSTs them to the endpoint with
/// <c>FinCore-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")</c>, up to <see cref="WebhookOptions.Concurrency"/> at a
/// time. A charge's events go one after another, in order; different charges' events go side by side. A failed event
/// is held and retried with its own exponential backoff and full jitter (its charge's later events wait behind it)
/// while the others go on; when every attempt of a round fails, the whole grain backs off. Each round ends in one
/// state write that carries its delivery-log rows. At least once: a round cut short before its write is sent again.</summary>
[GrainType("webhook")]
public sealed class WebhookGrain(Database database, IHttpClientFactory httpClients, IOptions<WebhookOptions> options,
    [PersistentState("webhook", "fincore")] IPersistentState<WebhookState> state) : Grain, IWebhookGrain, IRemindable
{
    /// <summary>Events held for retry at most; beyond it the cursor waits (the endpoint is failing on many charges).</summary>
    public const int MaxHeld = 200;

    private const string Deliver = "deliver";
    private const int Batch = 200;

    /// <summary>A turn starts no new round after this long, so a call (a kick) never waits behind a long backlog.</summary>
    private static readonly TimeSpan TurnBudget = TimeSpan.FromSeconds(2);

    private readonly WebhookOptions _options = options.Value;

    /// <summary>The delivery reminder, registered while events may be waiting and removed once none are: it fires only
    /// when no activation is delivering (its silo died), every this long. Rounds themselves run on a grain timer (a
    /// reminder due at once would be taken for a tick in the past and fire a period later).</summary>
    private static readonly TimeSpan Backstop = TimeSpan.FromMinutes(1);

    /// <summary>When the next round runs (its timer is set; null: none until a kick).</summary>
    private DateTime? _nextRound;

    private bool _reminded;
    private IGrainTimer? _timer;

    public async Task Kick()
    {
        var at = state.State.RetryAt > DateTime.UtcNow ? state.State.RetryAt : DateTime.UtcNow;
        if (_nextRound is { } next && next <= at)
        {
            return; // a round comes by then anyway
        }

        await ScheduleAsync(at - DateTime.UtcNow);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Deliver)
        {
            return Task.CompletedTask;
        }

        _reminded = true;
        return RoundsAsync();
    }

    /// <summary>Rounds until nothing is due, for at most <see cref="TurnBudget"/>; then the next round is scheduled, or
    /// with nothing left the reminder goes.</summary>
    private async Task RoundsAsync()
    {
        _timer?.Dispose();
        _timer = null;
        _nextRound = DateTime.UtcNow;
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                var next = await RoundAsync();
                if (next is not { } delay)
                {
                    _nextRound = null;
                    if (_reminded)
                    {
                        await this.ForgetReminderAsync(Deliver);
                    }

                    _reminded = false;
                    return;
                }

                if (delay > TimeSpan.Zero || Stopwatch.GetElapsedTime(started) > TurnBudget)
                {
                    await ScheduleAsync(delay);
                    return;
                }
            }
        }
        catch
        {
            _nextRound = null; // the next kick (or the reminder) tries again
            throw;
        }
    }

    /// <summary>The next round after <paramref name="due"/>, with the reminder in place as its backstop.</summary>
    private async Task ScheduleAsync(TimeSpan due)
    {
        due = due > TimeSpan.Zero ? due : TimeSpan.Zero;
        if (!_reminded)
        {
            await this.RegisterOrUpdateReminder(Deliver, Backstop, Backstop);
            _reminded = true;
        }

        _timer?.Dispose();
        _timer = this.RegisterGrainTimer(static (grain, ct) => grain.RoundsAsync(), this, due, Timeout.InfiniteTimeSpan);
        _nextRound = DateTime.UtcNow + due;
    }

    /// <summary>One round: the held events that are due and the next new ones, delivered; returns when the next round
    /// is due (null: when new events are kicked).</summary>
    private async Task<TimeSpan?> RoundAsync()
    {
        var tenant = this.GetPrimaryKeyString();
        var s = state.State;
        var now = DateTime.UtcNow;
        var held = s.Held.ToDictionary(h => h.Seq);
        var events = new List<WebhookEvent>();
        if (held.Count > 0)
        {
            await ReadAsync(events, PaymentsSql.WebhookEventsBySeq, tenant, held.Keys.ToArray());
        }

        var heldFound = events.Count;
        var fresh = s.Held.Count < MaxHeld;
        if (fresh)
        {
            await using var from = database.DataSource.CreateCommand(PaymentsSql.WebhookFromSeq);
            from.Parameters.AddWithValue(tenant);
            var start = Math.Max(s.Cursor, await from.ExecuteScalarAsync() is long f ? f : 0);
            await ReadAsync(events, PaymentsSql.WebhookEvents, tenant, start, Batch);
        }

        if (events.Count == 0)
        {
            var changed = s.Held.Count > 0; // held events whose endpoint or window changed: nothing left to send
            s.Held.Clear();
            s.FailedRounds = 0;
            if (changed)
            {
                await state.WriteStateAsync();
            }

            return null;
        }

        // A chain per charge, in sequence order: its events go one after another, and one that fails (or is not due
        // yet) holds back the rest of its chain.
        var outcomes = new Outcome[events.Count];
        var chains = Enumerable.Range(0, events.Count).OrderBy(i => events[i].Seq).GroupBy(i => events[i].ChargeId).Select(g => g.ToArray()).ToList();
        var failuresInARow = 0;
        var anyDelivered = 0;
        using (var gate = new SemaphoreSlim(_options.Concurrency))
        {
            await Task.WhenAll(chains.Select(async chain =>
            {
                await gate.WaitAsync();
                try
                {
                    foreach (var i in chain)
                    {
                        var e = events[i];
                        if (held.TryGetValue(e.Seq, out var h) && h.NextAt > now)
                        {
                            return; // not due: the chain waits (Outcome.None)
                        }

                        // The endpoint looks down: start nothing more this round (a hanging one costs a timeout each).
                        if (Volatile.Read(ref failuresInARow) >= _options.Concurrency && Volatile.Read(ref anyDelivered) == 0)
                        {
                            return;
                        }

                        var (ok, code, error) = await PostAsync(e);
                        outcomes[i] = new Outcome(true, ok, code, error);
                        if (ok)
                        {
                            Interlocked.Exchange(ref anyDelivered, 1);
                            Interlocked.Exchange(ref failuresInARow, 0);
                        }
                        else
                        {
                            Interlocked.Increment(ref failuresInARow);
                            return;
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        // The new state. An event still to deliver is held (a held one stays held): one that failed, gets its own
        // backoff. The cursor passes every new event that was delivered, given up on, or held, and stops before the
        // first that could not be held (no room): it and the ones after it come again.
        now = DateTime.UtcNow;
        var log = new DeliveryLog(events.Count);
        var newHeld = new List<HeldEvent>();
        var resolved = new bool[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var o = outcomes[i];
            held.TryGetValue(e.Seq, out var h);
            var attempts = (h?.Attempts ?? 0) + (o.Attempted ? 1 : 0);
            if (o.Attempted)
            {
                var givenUp = !o.Ok && h is { Attempts: > 0 } && now - h.FirstFailedAt >= _options.GiveUpAfter;
                log.Add(e, attempts, o.Code, o.Ok, givenUp ? $"{o.Error}; given up after {_options.GiveUpAfter.TotalHours:0.#} h" : o.Error);
                if (o.Ok || givenUp)
                {
                    resolved[i] = true;
                    continue;
                }
            }

            if (h is not null || newHeld.Count < MaxHeld)
            {
                var first = h is { Attempts: > 0 } ? h.FirstFailedAt : o.Attempted ? now : default;
                var nextAt = o.Attempted ? now + Backoff(attempts) : h?.NextAt ?? default;
                newHeld.Add(new HeldEvent(e.Seq, e.ChargeId, attempts, first, nextAt));
                resolved[i] = true;
            }
        }

        var cursor = s.Cursor;
        if (fresh)
        {
            for (var i = heldFound; i < events.Count && resolved[i]; i++)
            {
                cursor = events[i].Seq;
            }

            newHeld.RemoveAll(h => h.Seq > cursor);
        }

        var attempted = log.Count > 0;
        var allFailed = attempted && log.DeliveredCount == 0;
        if (!attempted && cursor == s.Cursor && newHeld.Count == s.Held.Count)
        {
            return NextHeld(now) is { } wait ? Max(wait, _options.BaseDelay) : null; // nothing was due: nothing changed
        }

        s.FailedRounds = allFailed ? s.FailedRounds + 1 : 0;
        s.RetryAt = allFailed ? now + Backoff(s.FailedRounds) : default;
        var previous = s.Cursor;
        s.Cursor = cursor;
        s.Held = newHeld;
        await state.WriteStateAsync(attempted ? [PaymentsSql.LogDeliveries(tenant, events[0].Url, log)] : []);

        if (allFailed)
        {
            return s.RetryAt - now;
        }

        if (fresh && events.Count - heldFound == Batch && cursor > previous)
        {
            return TimeSpan.Zero; // more may be waiting
        }

        return NextHeld(now);
    }

    /// <summary>When the earliest held event that failed is due again (null: none is held). An event held only behind
    /// another of its charge is due with it.</summary>
    private TimeSpan? NextHeld(DateTime now)
    {
        var held = state.State.Held;
        if (held.Count == 0)
        {
            return null;
        }

        var failed = held.Where(h => h.Attempts > 0).ToList();
        return failed.Count == 0 ? _options.BaseDelay : Max(failed.Min(h => h.NextAt) - now, TimeSpan.Zero);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private TimeSpan Backoff(int attempts) => Grains.Backoff.FullJitter(_options.BaseDelay, _options.MaxDelay, attempts);

    private async Task ReadAsync(List<WebhookEvent> into, string sql, string tenant, params object[] args)
    {
        await using var cmd = database.DataSource.CreateCommand(sql);
        cmd.Parameters.AddWithValue(tenant);
        foreach (var a in args)
        {
            cmd.Parameters.AddWithValue(a);
        }

        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            into.Add(new WebhookEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDateTime(4), r.GetString(5), r.GetString(6), r.GetString(7)));
        }
    }

    private async Task<(bool Ok, int? Code, string? Error)> PostAsync(WebhookEvent e)
    {
        var body = $"{{\"id\":\"{e.Id}\",\"type\":\"{e.Type}\",\"created_at\":\"{ApiJson.Time(e.At)}\",\"data\":{{\"object\":{e.Payload}}}}}";
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(e.Secret), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
        try
        {
            using var cts = new CancellationTokenSource(_options.Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Post, e.Url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("FinCore-Signature", $"t={t},v1={mac}");
            using var response = await httpClients.CreateClient("webhooks").SendAsync(request, cts.Token);
            var ok = (int)response.StatusCode is >= 200 and < 300;
            PaymentsMetrics.WebhookDelivery(ok ? "delivered" : "rejected");
            return (ok, (int)response.StatusCode, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            PaymentsMetrics.WebhookDelivery(ex is OperationCanceledException ? "timeout" : "unreachable");
            return (false, null, ex is OperationCanceledException ? "timed out" : ex.Message);
        }
    }

    private readonly record struct Outcome(bool Attempted, bool Ok, int? Code, string? Error);
}

internal sealed record WebhookEvent(long Seq, string Id, string ChargeId, string Type, DateTime At, string Payload, string Url, string Secret);

/// <summary>The delivery-log rows of one round, as the arrays <see cref="PaymentsSql.LogDeliveries"/> inserts.</summary>
internal sealed class DeliveryLog(int capacity)
{
    public List<string> EventIds { get; } = new(capacity);
    public List<string> Types { get; } = new(capacity);
    public List<int> Attempts { get; } = new(capacity);
    public List<int?> Codes { get; } = new(capacity);
    public List<bool> Delivered { get; } = new(capacity);
    public List<string?> Errors { get; } = new(capacity);

    public int Count => EventIds.Count;

    public int DeliveredCount => Delivered.Count(d => d);

    public void Add(WebhookEvent e, int attempt, int? code, bool delivered, string? error)
    {
        EventIds.Add(e.Id);
        Types.Add(e.Type);
        Attempts.Add(attempt);
        Codes.Add(code);
        Delivered.Add(delivered);
        Errors.Add(error);
    }
}
