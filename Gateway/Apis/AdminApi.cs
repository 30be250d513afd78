using System.Text.Json;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Dashboard;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;
using FinCore.Cluster;

namespace FinCore.Gateway.Apis;

internal static class AdminApi
{
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/admin/v1").RequireOperator().WithTags("Operator");
        api.MapPost("/tenants", CreateTenantAsync);
        api.MapPost("/tenants/{id}/api-keys", CreateKeyAsync);
        api.MapDelete("/tenants/{id}/api-keys/{keyId}", RevokeKeyAsync);
        api.MapGet("/cluster", ClusterAsync);
        api.MapGet("/audit/verify", VerifyAsync);
        return api;
    }

    private static async Task<IResult> CreateTenantAsync(HttpContext http, IGrainFactory grains)
    {
        var (doc, error) = await JsonBody.ReadObjectAsync(http);
        if (error is not null)
        {
            return error;
        }

        string? name, currency;
        var limits = TenantLimits.Default;
        using (doc)
        {
            var root = doc!.RootElement;
            name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()?.Trim() : null;
            currency = root.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? Currencies.Normalize(c.GetString()) : null;
            if (root.TryGetProperty("limits", out var l) && l.ValueKind != JsonValueKind.Null)
            {
                if (l.ValueKind != JsonValueKind.Object)
                {
                    return ProblemResults.Invalid(http, "limits", "must be an object");
                }

                var maxAmount = Limit(l, "max_amount", limits.MaxAmount, CreateChargeRequest.MaxAmount);
                var rps = Limit(l, "requests_per_second", limits.RequestsPerSecond, 1_000_000);
                var vc = Limit(l, "velocity_per_customer", limits.VelocityPerCustomer, 1_000_000);
                var vp = Limit(l, "velocity_per_payment_method", limits.VelocityPerPaymentMethod, 1_000_000);
                if (maxAmount is null || rps is null || vc is null || vp is null)
                {
                    return ProblemResults.Invalid(http, "limits", "values must be positive integers (max_amount at most 99999999)");
                }

                limits = new TenantLimits(maxAmount.Value, (int)rps.Value, (int)vc.Value, (int)vp.Value);
            }
        }

        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return ProblemResults.Invalid(http, "name", "is required (1 to 200 characters)");
        }

        if (currency is null)
        {
            return ProblemResults.Invalid(http, "currency", "must be an ISO 4217 currency code");
        }

        var id = Ids.New("ten_", 12);
        var (key, keyId, hash) = ApiKeys.NewKey();
        var tenant = grains.Grain<ITenantGrain>(id);
        await GrainCallRetry.IdempotentAsync(() => tenant.Create(name, currency, limits, keyId, hash), cancellationToken: http.RequestAborted);
        return TypedResults.Json(new { id, api_key = key, key_id = keyId }, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static long? Limit(JsonElement limits, string name, long fallback, long max)
    {
        if (!limits.TryGetProperty(name, out var v))
        {
            return fallback;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 1 && n <= max ? n : null;
    }

    private static async Task<IResult> CreateKeyAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "ten_"))
        {
            return ProblemResults.NotFound(http, "tenant");
        }

        var (key, keyId, hash) = ApiKeys.NewKey();
        var tenant = grains.Grain<ITenantGrain>(id);
        await GrainCallRetry.IdempotentAsync(() => tenant.AddApiKey(keyId, hash), cancellationToken: http.RequestAborted);
        return TypedResults.Json(new { id = keyId, @object = "api_key", tenant = id, api_key = key }, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> RevokeKeyAsync(HttpContext http, string id, string keyId, IGrainFactory grains, ApiKeys keys)
    {
        if (!Ids.IsWellFormed(id, "ten_") || !Ids.IsWellFormed(keyId, "key_"))
        {
            return ProblemResults.NotFound(http, "API key");
        }

        var tenant = grains.Grain<ITenantGrain>(id);
        await GrainCallRetry.IdempotentAsync(() => tenant.RevokeApiKey(keyId), cancellationToken: http.RequestAborted);
        keys.Forget(t => t.KeyId == keyId);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ClusterAsync(HttpContext http, ClusterSnapshots snapshots)
    {
        var view = await snapshots.TakeAsync(http.RequestAborted);
        return TypedResults.Json(new
        {
            @object = "cluster",
            cluster_id = snapshots.ClusterId,
            membership_version = view.MembershipVersion,
            // Live silos first (newest first), then the dead ones Orleans keeps in its membership table for a while.
            silos = view.Silos.Select(s => new
            {
                id = s.Id, name = s.Name, address = s.Address, status = s.Status, started_at = s.StartedAt, last_heartbeat = s.LastHeartbeat,
                activation_count = s.Activations,
            }),
        }, ApiJson.Options);
    }

    private static async Task<IResult> VerifyAsync(HttpContext http, ReadModel readModel)
    {
        string? tenant = http.Request.Query["tenant"];
        if (!Ids.IsWellFormed(tenant, "ten_"))
        {
            return ProblemResults.Invalid(http, "tenant", "must be a tenant id");
        }

        if (!await readModel.TenantExistsAsync(tenant!, http.RequestAborted))
        {
            return ProblemResults.NotFound(http, "tenant");
        }

        var v = await readModel.VerifyAuditAsync(tenant!, http.RequestAborted);
        return v.Ok
            ? TypedResults.Json(new { ok = true, entries = v.Entries, pending = v.Pending }, ApiJson.Options)
            : TypedResults.Json(new { ok = false, entries = v.Entries, broken_at = new { sequence = v.BrokenAtSeq, event_id = v.BrokenEventId } }, ApiJson.Options);
    }
}
