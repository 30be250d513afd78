using FinCore.Gateway.Problems;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Validation;
using FinCore.Grains;
using FinCore.Cluster;
using FinCore.Persistence;

namespace FinCore.Gateway.Apis;

internal static class TenantApi
{
    public static RouteGroupBuilder MapTenantApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenant").RequireTenant().WithTags("Tenant");
        api.MapGet("", GetAsync);
        api.MapPut("/webhook", SetWebhookAsync);
        api.MapPut("/contact", SetContactAsync);
        app.MapGroup("/v1/webhook-deliveries").RequireTenant().WithTags("Tenant").MapGet("", DeliveriesAsync);
        return api;
    }

    private static async Task<IResult> DeliveriesAsync(HttpContext http, Database database)
    {
        var limit = 20;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            return ProblemResults.Invalid(http, "limit", "must be an integer from 1 to 100");
        }

        await using var cmd = database.DataSource.CreateCommand(
            "SELECT id, event_id, event_type, url, attempt, status_code, delivered, error, created_at FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2");
        cmd.Parameters.AddWithValue(http.Tenant().TenantId);
        cmd.Parameters.AddWithValue(limit);
        var rows = new List<object>();
        await using var r = await cmd.ExecuteReaderAsync(http.RequestAborted);
        while (await r.ReadAsync(http.RequestAborted))
        {
            rows.Add(new
            {
                id = "whd_" + r.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture),
                @object = "webhook_delivery",
                event_id = r.GetString(1),
                event_type = r.GetString(2),
                url = r.GetString(3),
                attempt = r.GetInt32(4),
                status_code = r.IsDBNull(5) ? (int?)null : r.GetInt32(5),
                delivered = r.GetBoolean(6),
                error = r.IsDBNull(7) ? null : r.GetString(7),
                created_at = r.GetDateTime(8),
            });
        }

        return TypedResults.Json(new { @object = "list", data = rows }, ApiJson.Options);
    }


    private static async Task<IResult> GetAsync(HttpContext http, IGrainFactory grains) =>
        TypedResults.Json(Shape(await GrainCallRetry.IdempotentAsync(grains.Grain<ITenantGrain>(http.Tenant().TenantId).Get, cancellationToken: http.RequestAborted)), ApiJson.Options);

    private static async Task<IResult> SetWebhookAsync(HttpContext http, IGrainFactory grains)
    {
        var (doc, error) = await JsonBody.ReadObjectAsync(http);
        if (error is not null)
        {
            return error;
        }

        string? url;
        using (doc)
        {
            url = doc!.RootElement.TryGetProperty("url", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.String ? u.GetString() : null;
        }

        if (url is null || url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) ||
            !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return ProblemResults.Invalid(http, "url", "must be an https:// URL (http:// only for loopback), without credentials");
        }

        var secret = Ids.New("whsec_", 32);
        var tenant = grains.Grain<ITenantGrain>(http.Tenant().TenantId);
        await GrainCallRetry.IdempotentAsync(() => tenant.SetWebhook(uri.ToString(), secret), cancellationToken: http.RequestAborted);
        return TypedResults.Json(new { url = uri.ToString(), secret }, ApiJson.Options);
    }

    /// <summary><c>{ "email": "security@…" }</c> (or null: none): where security alerts go.</summary>
    private static async Task<IResult> SetContactAsync(HttpContext http, IGrainFactory grains)
    {
        var (doc, error) = await JsonBody.ReadObjectAsync(http);
        if (error is not null)
        {
            return error;
        }

        string? email;
        using (doc)
        {
            if (!doc!.RootElement.TryGetProperty("email", out var e) || e.ValueKind is not (System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Null)
                || doc.RootElement.EnumerateObject().Count() != 1)
            {
                return ProblemResults.Invalid(http, "email", "is required (an address, or null for none), and nothing else");
            }

            email = e.ValueKind == System.Text.Json.JsonValueKind.Null ? null : e.GetString()!.Trim();
        }

        var errors = new Dictionary<string, string[]>();
        if (email is not null && (email.Length > 254 || CustomerFields.Email(email, errors) is null))
        {
            return ProblemResults.Invalid(http, "email", "must be an email address (name@example.com), at most 254 characters");
        }

        var tenant = grains.Grain<ITenantGrain>(http.Tenant().TenantId);
        return TypedResults.Json(Shape(await GrainCallRetry.IdempotentAsync(() => tenant.SetContact(email), cancellationToken: http.RequestAborted)), ApiJson.Options);
    }

    internal static object Shape(TenantSettings t) => new
    {
        id = t.Id,
        @object = "tenant",
        name = t.Name,
        currency = t.Currency,
        limits = new
        {
            max_amount = t.Limits.MaxAmount,
            requests_per_second = t.Limits.RequestsPerSecond,
            velocity_per_customer = t.Limits.VelocityPerCustomer,
            velocity_per_payment_method = t.Limits.VelocityPerPaymentMethod,
        },
        webhook = t.WebhookUrl is null ? null : new { url = t.WebhookUrl },
        contact_email = t.ContactEmail,
        created_at = t.CreatedAt,
    };
}
