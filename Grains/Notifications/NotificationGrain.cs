using System.Diagnostics;
using System.Text.RegularExpressions;
using FinCore.Persistence;
using FinCore.Privacy;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Notifications;

/// <summary>
/// One tenant's notifier (key: the tenant id). Kicked by the audit sealer when the tenant's events are sealed, it walks
/// the chain from its cursor and makes one notification per recipient, event and channel
/// (<see cref="NotificationSql.EventsAfter"/>; ids derived from the event, so a walk repeated after a crash makes nothing
/// twice). Push ones are queued for the customer's streams, and the gateways told when they commit
/// (<see cref="PushNotifications"/>). Email ones (when a server is configured) it sends over SMTP, writing each attempt's
/// outcome before the next send. A notification is sent until the server accepts it,
/// retried with exponential backoff and full jitter, and given up on after <see cref="NotificationOptions.GiveUpAfter"/>.
/// SMTP has no idempotency key: a silo that dies after the server took a message and before its outcome was written
/// sends that one message again on recovery (at most one duplicate per notification, never a lost one); its Message-ID
/// is the notification id, so a receiver can tell. While notifications are pending a reminder is the backstop for a
/// silo's death; rounds themselves run on a grain timer.
/// </summary>
[GrainType("notifier")]
public sealed partial class NotificationGrain(Database database, SmtpMailer mailer, PersonalDataProtector personalData, IOptions<NotificationOptions> options,
    ILogger<NotificationGrain> logger)
    : Grain, INotificationGrain, IRemindable
{
    private const string Backstop = "send";
    private const int EventBatch = 500;
    private const int SendBatch = 200;
    private static readonly TimeSpan BackstopPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan TurnBudget = TimeSpan.FromSeconds(2);

    private readonly NotificationOptions _options = options.Value;
    private IGrainTimer? _timer;
    private DateTime? _nextRound;
    private bool _reminded;
    private long? _cursor;
    private string? _language;

    /// <summary>Rounds in a row in which the server could not be reached; the notifier waits as a whole.</summary>
    private int _downRounds;

    private string TenantId => this.GetPrimaryKeyString();

    public Task Kick()
    {
        if ((_nextRound is { } next && next <= DateTime.UtcNow + TimeSpan.FromMilliseconds(50)) || _downRounds > 0)
        {
            return Task.CompletedTask; // a round comes by then anyway (or the server is down: its backoff decides)
        }

        Schedule(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Backstop)
        {
            return Task.CompletedTask;
        }

        _reminded = true;
        return RoundsAsync();
    }

    private void Schedule(TimeSpan due)
    {
        due = due > TimeSpan.Zero ? due : TimeSpan.Zero;
        _timer?.Dispose();
        _timer = this.RegisterGrainTimer(static (grain, _) => grain.RoundsAsync(), this, due, Timeout.InfiniteTimeSpan);
        _nextRound = DateTime.UtcNow + due;
    }

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
                var moreEvents = await MakeAsync();
                var (moreDue, down) = _options.EmailEnabled ? await SendDueAsync() : (false, false);
                if (down)
                {
                    _downRounds++;
                    await EnsureBackstopAsync();
                    Schedule(_options.Backoff(_downRounds));
                    return;
                }

                _downRounds = 0;
                if (moreEvents || moreDue)
                {
                    if (Stopwatch.GetElapsedTime(started) < TurnBudget)
                    {
                        continue;
                    }

                    Schedule(TimeSpan.Zero); // let calls in, then go on
                    return;
                }

                if (await NextDueAsync() is { } next)
                {
                    await EnsureBackstopAsync();
                    Schedule(next - DateTime.UtcNow);
                    return;
                }

                _nextRound = null;
                if (_reminded)
                {
                    await this.ForgetReminderAsync(Backstop);
                    _reminded = false;
                }

                return;
            }
        }
        catch (Exception e)
        {
            RoundFailed(logger, TenantId, e.Message);
            Schedule(_options.Backoff(Math.Max(_downRounds, 1)));
        }
    }

    /// <summary>When the next email is due (null: none is pending, or email is not configured).</summary>
    private async Task<DateTime?> NextDueAsync()
    {
        if (!_options.EmailEnabled)
        {
            return null;
        }

        await using var cmd = database.DataSource.CreateCommand(NotificationSql.NextDue);
        cmd.Parameters.AddWithValue(TenantId);
        return await cmd.ExecuteScalarAsync() as DateTime?;
    }

    private async Task EnsureBackstopAsync()
    {
        if (!_reminded)
        {
            await this.RegisterOrUpdateReminder(Backstop, BackstopPeriod, BackstopPeriod);
            _reminded = true;
        }
    }

    /// <summary>Makes the notifications of the next events after the cursor; true when a full batch was read (more may
    /// be waiting).</summary>
    private async Task<bool> MakeAsync()
    {
        var tenant = TenantId;
        if (_cursor is null || _language is null)
        {
            await using var c = database.DataSource.CreateCommand(NotificationSql.Cursor);
            c.Parameters.AddWithValue(tenant);
            _cursor = await c.ExecuteScalarAsync() is long seq ? seq : 0;
            await using var t = database.DataSource.CreateCommand(NotificationSql.TenantCurrency);
            t.Parameters.AddWithValue(tenant);
            _language = NotificationTemplates.LanguageFor(await t.ExecuteScalarAsync() as string ?? "");
        }

        var made = new List<Made>();
        var last = _cursor.Value;
        var events = 0;
        await using (var cmd = database.DataSource.CreateCommand(NotificationSql.EventsAfter))
        {
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(_cursor.Value);
            cmd.Parameters.AddWithValue(EventBatch);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                var seq = r.GetInt64(0);
                if (seq != last)
                {
                    events++;
                    last = seq;
                }

                if (r.IsDBNull(2) || r.IsDBNull(6) || r.IsDBNull(4))
                {
                    continue; // nobody to notify
                }

                var eventId = r.GetString(1);
                var kind = r.GetString(2);
                var customer = r.GetString(6);
                var occurred = r.GetDateTime(9);
                if (_options.EmailEnabled)
                {
                    made.Add(new Made(Ids.IdFor("ntf_", tenant, $"{eventId}/{kind}/email"), customer, "email", kind, eventId, r.GetString(3),
                        r.GetInt64(4), r.GetString(5), r.GetBoolean(7) ? "pending" : "skipped", seq, occurred));
                }

                if (customer != Tenants.TenantGrain.ContactSubject) // the security contact is emailed only
                {
                    made.Add(new Made(Ids.IdFor("ntf_", tenant, $"{eventId}/{kind}/push"), customer, "push", kind, eventId, r.GetString(3),
                        r.GetInt64(4), r.GetString(5), r.GetBoolean(8) ? PushNotifications.Queued : "skipped", seq, occurred));
                }
            }
        }

        if (events == 0)
        {
            return false;
        }

        await using (var batch = database.DataSource.CreateBatch())
        {
            var now = DateTime.UtcNow;
            foreach (var n in made)
            {
                batch.BatchCommands.Add(Database.Statement(NotificationSql.Insert, tenant, n.Id, n.Customer, n.Channel, n.Kind, n.EventId, n.Source, n.Amount,
                    n.Currency, n.Status, now, n.Seq, n.OccurredAt));
            }

            foreach (var n in made.Where(n => n.Status == PushNotifications.Queued).DistinctBy(n => n.Customer))
            {
                batch.BatchCommands.Add(Database.Statement(NotificationSql.NotifyPush, $"{tenant} {n.Customer} {n.Seq}"));
            }

            batch.BatchCommands.Add(Database.Statement(NotificationSql.AdvanceCursor, tenant, last));
            await batch.ExecuteNonQueryAsync(); // one implicit transaction
        }

        _cursor = last;
        return events == EventBatch;
    }

    /// <summary>Sends the due notifications, each outcome written before the next send. Answers whether a full batch
    /// was due (more may be) and whether the server could not be reached (the round stops).</summary>
    private async Task<(bool More, bool Down)> SendDueAsync()
    {
        var tenant = TenantId;
        var due = new List<Due>();
        await using (var cmd = database.DataSource.CreateCommand(NotificationSql.Due))
        {
            cmd.Parameters.AddWithValue(tenant);
            cmd.Parameters.AddWithValue(SendBatch);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
            {
                due.Add(new Due(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetInt32(5), r.GetDateTime(6),
                    r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8), !r.IsDBNull(9) && r.GetBoolean(9),
                    r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetFieldValue<byte[]>(11), r.IsDBNull(12) ? null : r.GetDateTime(12)));
            }
        }

        // The address and name exist only encrypted: opened here, in memory, for the send.
        for (var i = 0; i < due.Count; i++)
        {
            if (due[i] is { Sealed: { } sealedData, Customer: { } customer })
            {
                var p = await personalData.OpenAsync(tenant, customer, sealedData);
                due[i] = due[i] with { Email = p.Email, Name = p.Name, Sealed = null };
            }
        }

        if (due.Count == 0)
        {
            return (false, false);
        }

        // The backstop is in place before the first send: should this silo die mid-send, what is left is sent from
        // another, even if the tenant has no event again.
        await EnsureBackstopAsync();

        // Up to Concurrency connections, each sending its share one message at a time: at most that many messages of
        // this tenant are in flight, each written before its connection sends the next.
        var workers = Math.Min(Math.Max(_options.Concurrency, 1), due.Count);
        var down = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => SendAsync(due.Where((_, i) => i % workers == w).ToList())));
        return (due.Count == SendBatch, down.Any(d => d));
    }

    /// <summary>Sends <paramref name="share"/> over one connection; true when the server could not be reached (the rest
    /// of the share waits for the next round).</summary>
    private async Task<bool> SendAsync(List<Due> share)
    {
        var tenant = TenantId;
        SmtpClient? client = null;
        try
        {
            foreach (var n in share)
            {
                if (n.Email is null || n.Name is null || !n.EmailOn)
                {
                    await ExecuteAsync(NotificationSql.Skip, tenant, n.Id, n.Email is null ? "the customer is gone" : "email is turned off");
                    continue;
                }

                var email = NotificationTemplates.Render(n.Kind, _language!, n.Name, n.Amount, n.Currency, n.Source, n.OccurredAt ?? n.CreatedAt);
                var message = SmtpMailer.Message(_options.From, n.Id, n.Name, n.Email, email, n.OccurredAt);
                string? error = null;
                var connected = client is not null;
                try
                {
                    client ??= await mailer.ConnectAsync(CancellationToken.None);
                    connected = true;
                    await client.SendAsync(message);
                }
                catch (Exception e)
                {
                    error = WithoutAddresses(e.Message);
                    client?.Dispose();
                    client = null;
                }

                var now = DateTime.UtcNow;
                var attempts = n.Attempts + 1;
                var status = error is null ? "sent" : now - n.CreatedAt >= _options.GiveUpAfter ? "failed" : "pending";
                await ExecuteAsync(NotificationSql.Attempted, tenant, n.Id, status, error is null ? now : now + _options.Backoff(attempts),
                    error, error is null ? now : null, error is null, now);
                if (error is not null)
                {
                    SendFailed(logger, n.Id, attempts, error);
                    if (!connected)
                    {
                        return true; // the server is down: the rest wait for the next round
                    }
                }
            }
        }
        finally
        {
            if (client is not null)
            {
                try
                {
                    await client.DisconnectAsync(quit: true);
                }
                catch (Exception)
                {
                    // the messages are sent; a failed QUIT changes nothing
                }

                client.Dispose();
            }
        }

        return false;
    }

    private async Task ExecuteAsync(string sql, params object?[] values)
    {
        await using var cmd = database.DataSource.CreateCommand(sql);
        Database.Bind(cmd.Parameters, values);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A server's answer may quote the recipient's address: it is personal data, kept out of logs and rows.</summary>
    internal static string WithoutAddresses(string text) => Address().Replace(text, "<address>");

    [GeneratedRegex(@"[^\s<>""'(),;:]+@[^\s<>""'(),;:]+")]
    private static partial Regex Address();

    private sealed record Made(string Id, string Customer, string Channel, string Kind, string EventId, string Source, long Amount, string Currency,
        string Status, long Seq, DateTime OccurredAt);

    private sealed record Due(string Id, string Kind, string Source, long Amount, string Currency, int Attempts, DateTime CreatedAt, string? Email,
        string? Name, bool EmailOn, string? Customer, byte[]? Sealed, DateTime? OccurredAt);

    [LoggerMessage(EventId = 7700, Level = LogLevel.Warning, Message = "Notification {Id}: attempt {Attempt} failed: {Error}")]
    private static partial void SendFailed(ILogger logger, string id, int attempt, string error);

    [LoggerMessage(EventId = 7701, Level = LogLevel.Warning, Message = "The notifier of tenant {Tenant} failed a round: {Error}")]
    private static partial void RoundFailed(ILogger logger, string tenant, string error);
}
