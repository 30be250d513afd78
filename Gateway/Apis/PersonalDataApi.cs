using System.Text.Json.Nodes;
using FinCore.Cluster;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

/// <summary>A person's rights over their data (LGPD): erasure (<c>DELETE /v1/customers/{id}</c>) and export
/// (<c>GET /v1/customers/{id}/export</c>) for the tenant; for operators, a read of one customer that states its reason
/// and is logged, and the log itself.</summary>
internal static class PersonalDataApi
{
    public static IEndpointRouteBuilder MapPersonalDataApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/v1/customers/{id}").RequireTenant().WithTags("Customers");
        tenant.MapDelete("", EraseAsync);
        tenant.MapGet("/export", ExportAsync);
        var admin = app.MapGroup("/admin/v1").RequireOperator().WithTags("Operator");
        admin.MapGet("/tenants/{tenantId}/customers/{id}", OperatorReadAsync);
        admin.MapGet("/personal-data-access", AccessLogAsync);
        admin.MapPost("/tenants/{tenantId}/data-keys/rotate", RotateAsync);
        return app;
    }

    private static async Task<IResult> EraseAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(http.Tenant().TenantId, id));
        await GrainCallRetry.IdempotentAsync(grain.Erase, cancellationToken: http.RequestAborted);
        return TypedResults.Json(new { id, @object = "customer", deleted = true }, ApiJson.Options);
    }

    private static async Task<IResult> ExportAsync(HttpContext http, string id, IGrainFactory grains, PersonalDataRecords records)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var tenant = http.Tenant();
        var grain = grains.Grain<ICustomerGrain>(Ids.Key(tenant.TenantId, id));
        var customer = await GrainCallRetry.IdempotentAsync(grain.Get, cancellationToken: http.RequestAborted);
        var preferences = await GrainCallRetry.IdempotentAsync(grain.Preferences, cancellationToken: http.RequestAborted);
        await records.RecordAsync(tenant.TenantId, id, "tenant:" + tenant.KeyId, "export", null, RequestIds.Get(http), http.RequestAborted);
        var export = new JsonObject
        {
            ["object"] = "customer_export",
            ["exported_at"] = DateTime.UtcNow,
            ["customer"] = System.Text.Json.JsonSerializer.SerializeToNode(customer, ApiJson.Options),
            ["notification_preferences"] = new JsonObject { ["email"] = preferences.Email, ["push"] = preferences.Push },
        };
        foreach (var (name, value) in await records.ExportAsync(tenant.TenantId, id, customer.Account, http.RequestAborted))
        {
            export[name] = value?.DeepClone();
        }

        return TypedResults.Content(export.ToJsonString(ApiJson.Options), "application/json");
    }

    /// <summary>An operator's read of one customer, personal data included: <c>reason</c> is required (why: a support
    /// ticket, a legal request) and the read is logged, with it, before the data is answered.</summary>
    private static async Task<IResult> OperatorReadAsync(HttpContext http, string tenantId, string id, IGrainFactory grains, PersonalDataRecords records)
    {
        if (!Ids.IsWellFormed(tenantId, "ten_") || !Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        string? reason = http.Request.Query["reason"];
        if (reason is null || reason.Trim().Length is < 3 or > 500)
        {
            return ProblemResults.Invalid(http, "reason", "must say why this customer's personal data is read (3 to 500 characters); the read is logged with it");
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(tenantId, id));
        await GrainCallRetry.IdempotentAsync(grain.Preferences, cancellationToken: http.RequestAborted); // 404 before anything is logged
        await records.RecordAsync(tenantId, id, "operator", "read", reason.Trim(), RequestIds.Get(http), http.RequestAborted);
        return TypedResults.Json(await GrainCallRetry.IdempotentAsync(grain.Get, cancellationToken: http.RequestAborted), ApiJson.Options);
    }

    /// <summary>A new data key for the tenant: what is written next is encrypted under it, what was written before still
    /// opens, and the silos reseal it under the new key within minutes (PersonalDataStartup).</summary>
    private static async Task<IResult> RotateAsync(HttpContext http, string tenantId, FinCore.Persistence.Database database, FinCore.Privacy.PersonalDataProtector protector)
    {
        await using (var cmd = database.DataSource.CreateCommand("SELECT 1 FROM tenants WHERE id = $1"))
        {
            cmd.Parameters.AddWithValue(tenantId);
            if (!Ids.IsWellFormed(tenantId, "ten_") || await cmd.ExecuteScalarAsync(http.RequestAborted) is null)
            {
                return ProblemResults.NotFound(http, "tenant");
            }
        }

        var version = await protector.RotateAsync(tenantId, http.RequestAborted);
        return TypedResults.Json(new { @object = "data_key", tenant = tenantId, version }, ApiJson.Options);
    }

    private static async Task<IResult> AccessLogAsync(HttpContext http, PersonalDataRecords records)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        string? tenant = http.Request.Query["tenant"];
        if (!Ids.IsWellFormed(tenant, "ten_"))
        {
            return ProblemResults.Invalid(http, "tenant", "must be a tenant id");
        }

        string? customer = http.Request.Query["customer"];
        if (customer is not null && !Ids.IsWellFormed(customer, "cus_"))
        {
            return ProblemResults.Invalid(http, "customer", "must be a customer id");
        }

        var rows = await records.AccessesAsync(tenant!, customer, limit + 1, http.RequestAborted);
        return TypedResults.Json(new { @object = "list", data = rows.Take(limit), has_more = rows.Count > limit }, ApiJson.Options);
    }
}
