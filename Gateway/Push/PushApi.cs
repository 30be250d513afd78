using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using FinCore.Gateway.Apis;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Problems;
using FinCore.Grains;
using FinCore.Persistence;
using Microsoft.AspNetCore.Http.Features;

namespace FinCore.Gateway.Push;

/// <summary>
/// Push (API.md, "Notifications"): the tenant's server mints a customer session token
/// (<c>POST /v1/customers/{id}/session-tokens</c>); the customer's app opens <c>GET /v1/notifications/stream</c> with it
/// and receives that customer's push notifications as Server-Sent Events, each with its event's seq in the tenant's chain
/// as its id. Resuming with <c>Last-Event-ID</c> sends exactly what came after, on any gateway: the stream reads the
/// table, and <see cref="PushHub"/> only wakes it.
/// </summary>
internal static class PushApi
{
    /// <summary>A comment line this often keeps proxies from closing an idle stream; the session is checked then too.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private const int Batch = 100;

    private static readonly Lazy<string> WalletPage = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("wallet.html")!;
        return new StreamReader(stream).ReadToEnd();
    });

    public static IEndpointRouteBuilder MapPushApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/v1/customers/{id}/session-tokens").RequireTenant().WithTags("Notifications");
        tokens.MapPost("", MintAsync);
        tokens.MapGet("", ListAsync);
        tokens.MapDelete("", (HttpContext http, string id, SessionTokens sessions) => RevokeAsync(http, id, null, sessions));
        tokens.MapDelete("/{session}", (HttpContext http, string id, string session, SessionTokens sessions) => RevokeAsync(http, id, session, sessions));
        app.MapGet("/v1/notifications/stream", StreamAsync).WithTags("Notifications");
        app.MapGet("/demo/wallet", () => Results.Content(WalletPage.Value, "text/html; charset=utf-8")).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> MintAsync(HttpContext http, string id, SessionTokens sessions)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var lifetime = SessionTokens.DefaultLifetime;
        if (http.Request.ContentLength is not 0 && (http.Request.ContentLength is not null || http.Request.ContentType is not null))
        {
            var (request, error) = await CustomersApi.ParseAsync(http, ParseMint);
            if (request is null)
            {
                return error!;
            }

            lifetime = request.Lifetime;
        }

        var minted = await sessions.MintAsync(http.Tenant().TenantId, id, lifetime, http.RequestAborted);
        return minted is null
            ? ProblemResults.NotFound(http, "customer")
            : TypedResults.Json(new
            {
                id = minted.Id,
                @object = "session_token",
                customer = minted.Customer,
                token = minted.Token,
                created_at = minted.CreatedAt,
                expires_at = minted.ExpiresAt,
            }, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private sealed record MintRequest(TimeSpan Lifetime);

    /// <summary><c>{ "expires_in": seconds }</c> (optional, 60 to 3600; default 900).</summary>
    private static MintRequest? ParseMint(JsonElement body, Dictionary<string, string[]> errors)
    {
        var lifetime = SessionTokens.DefaultLifetime;
        foreach (var p in body.EnumerateObject())
        {
            if (p.Name != "expires_in")
            {
                errors[p.Name] = ["is not a session token field (expires_in)"];
                return null;
            }

            var (min, max) = ((int)SessionTokens.MinLifetime.TotalSeconds, (int)SessionTokens.MaxLifetime.TotalSeconds);
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var seconds) || seconds < min || seconds > max)
            {
                errors["expires_in"] = [$"must be a whole number of seconds from {min} to {max}"];
                return null;
            }

            lifetime = TimeSpan.FromSeconds(seconds);
        }

        return new MintRequest(lifetime);
    }

    private static async Task<IResult> ListAsync(HttpContext http, string id, SessionTokens sessions)
    {
        var live = Ids.IsWellFormed(id, "cus_") ? await sessions.LiveAsync(http.Tenant().TenantId, id, http.RequestAborted) : null;
        return live is null
            ? ProblemResults.NotFound(http, "customer")
            : TypedResults.Json(new
            {
                @object = "list",
                data = live.Select(s => new { id = s.Id, @object = "session_token", customer = id, created_at = s.CreatedAt, expires_at = s.ExpiresAt }),
                has_more = false,
            }, ApiJson.Options);
    }

    private static async Task<IResult> RevokeAsync(HttpContext http, string id, string? session, SessionTokens sessions)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        if (session is not null && !Ids.IsWellFormed(session, SessionTokens.IdPrefix))
        {
            return ProblemResults.NotFound(http, "session token");
        }

        return await sessions.RevokeAsync(http.Tenant().TenantId, id, session, http.RequestAborted)
            ? TypedResults.NoContent()
            : ProblemResults.NotFound(http, session is null ? "customer" : "session token");
    }

    private static async Task StreamAsync(HttpContext http, SessionTokens sessions, PushHub hub, Database database, IHostApplicationLifetime lifetime)
    {
        var token = AuthFilters.Bearer(http);
        var session = token is null ? null : await sessions.AuthenticateAsync(token, http.RequestAborted);
        if (session is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            await ProblemResults.WriteAsync(http, 401, "unauthorized", token is null
                ? "Missing or malformed Authorization header: use 'Bearer <customer session token>'."
                : "Unknown, expired or revoked session token: the stream needs a customer session token (cst_…).");
            return;
        }

        long? after = null;
        var lastEventId = http.Request.Headers["Last-Event-ID"];
        if (lastEventId.Count > 0)
        {
            if (lastEventId.Count > 1 || !long.TryParse(lastEventId[0], NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                await ProblemResults.WriteAsync(http, 400, "invalid_request", "Last-Event-ID must be the id of an event this stream sent.");
                return;
            }

            after = last;
        }

        var tenant = session.TenantId;
        var customer = session.CustomerId;
        using var subscription = hub.Subscribe(tenant, customer); // before the first read: nothing between is missed
        after ??= await LatestAsync(database, tenant, customer, http.RequestAborted);

        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-store";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var remaining = session.ExpiresAt - DateTime.UtcNow;
        cts.CancelAfter(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        var ct = cts.Token;
        var ended = "expired";
        try
        {
            await http.Response.WriteAsync("retry: 1000\n\n", ct);
            await http.Response.Body.FlushAsync(ct);
            while (true)
            {
                after = await SendNewAsync(http, database, tenant, customer, after.Value, ct);
                if (!await subscription.WaitAsync(Heartbeat, ct))
                {
                    if (!await sessions.IsLiveAsync(session, ct))
                    {
                        ended = "revoked";
                        break;
                    }

                    await http.Response.WriteAsync(": keepalive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // the session expired
        }
        catch (OperationCanceledException)
        {
            return; // the client went away, or this gateway is stopping: the client resumes elsewhere with Last-Event-ID
        }

        // Tell the app why, so it fetches a new token instead of retrying this one.
        await http.Response.WriteAsync($"event: session_ended\ndata: {{\"reason\":\"{ended}\"}}\n\n", http.RequestAborted);
    }

    /// <summary>Sends the customer's push notifications after <paramref name="after"/>, in chain order, and marks them
    /// delivered (the first delivery is the attempt in the delivery log); answers the seq of the last one sent.</summary>
    private static async Task<long> SendNewAsync(HttpContext http, Database database, string tenant, string customer, long after, CancellationToken ct)
    {
        while (true)
        {
            var sent = new List<string>();
            var text = new StringBuilder();
            await using (var cmd = database.DataSource.CreateCommand("""
                SELECT seq, id, kind, source, amount, currency, occurred_at, created_at FROM notifications
                WHERE tenant_id = $1 AND customer_id = $2 AND channel = 'push' AND seq > $3 AND status <> 'skipped'
                ORDER BY seq LIMIT $4
                """))
            {
                cmd.Parameters.AddWithValue(tenant);
                cmd.Parameters.AddWithValue(customer);
                cmd.Parameters.AddWithValue(after);
                cmd.Parameters.AddWithValue(Batch);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct))
                {
                    after = r.GetInt64(0);
                    var id = r.GetString(1);
                    sent.Add(id);
                    var data = JsonSerializer.Serialize(new
                    {
                        id,
                        @object = "notification",
                        channel = "push",
                        customer,
                        kind = r.GetString(2),
                        source = r.GetString(3),
                        amount = r.GetInt64(4),
                        currency = r.GetString(5).Trim(),
                        occurred_at = r.GetDateTime(6),
                        created_at = r.GetDateTime(7),
                    }, ApiJson.Options);
                    text.Append(CultureInfo.InvariantCulture, $"id: {after}\nevent: notification\ndata: {data}\n\n");
                }
            }

            if (sent.Count == 0)
            {
                return after;
            }

            await http.Response.WriteAsync(text.ToString(), ct);
            await http.Response.Body.FlushAsync(ct);
            await using (var cmd = database.DataSource.CreateCommand("""
                WITH d AS (
                    UPDATE notifications SET status = 'delivered', attempts = attempts + 1, sent_at = now(), updated_at = now()
                    WHERE tenant_id = $1 AND id = ANY($2) AND status = 'queued'
                    RETURNING id, attempts)
                INSERT INTO notification_attempts (tenant_id, notification_id, attempt, at, ok)
                SELECT $1, id, attempts, now(), true FROM d
                """))
            {
                cmd.Parameters.AddWithValue(tenant);
                cmd.Parameters.AddWithValue(sent.ToArray());
                await cmd.ExecuteNonQueryAsync(ct);
            }

            if (sent.Count < Batch)
            {
                return after;
            }
        }
    }

    /// <summary>Where a stream opened without Last-Event-ID starts: after the customer's latest push notification.</summary>
    private static async Task<long> LatestAsync(Database database, string tenant, string customer, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(
            "SELECT coalesce(max(seq), 0) FROM notifications WHERE tenant_id = $1 AND customer_id = $2 AND channel = 'push'");
        cmd.Parameters.AddWithValue(tenant);
        cmd.Parameters.AddWithValue(customer);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
