using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/accounts").RequireTenant().WithTags("Accounts");
        api.MapGet("/{id}", GetAsync);
        api.MapGet("/{id}/entries", EntriesAsync);
        api.MapGet("/{id}/statement", StatementAsync);
        return api;
    }

    private static async Task<IResult> GetAsync(HttpContext http, string id, LedgerReadModel ledger)
    {
        var account = Ids.IsWellFormed(id, "acct_") ? await ledger.AccountAsync(http.Tenant().TenantId, id, http.RequestAborted) : null;
        return account is null ? ProblemResults.NotFound(http, "account") : TypedResults.Json(account, ApiJson.Options);
    }

    private static async Task<IResult> EntriesAsync(HttpContext http, string id, LedgerReadModel ledger)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        string? startingAfter = http.Request.Query["starting_after"];
        var before = LedgerReadModel.EntryPk(startingAfter);
        if (startingAfter is not null && before is null)
        {
            return ProblemResults.Invalid(http, "starting_after", "must be a ledger entry id (le_…)");
        }

        var tenant = http.Tenant().TenantId;
        if (!Ids.IsWellFormed(id, "acct_") || await ledger.AccountAsync(tenant, id, http.RequestAborted) is null)
        {
            return ProblemResults.NotFound(http, "account");
        }

        var page = await ledger.EntriesAsync(tenant, id, limit, before, http.RequestAborted);
        return TypedResults.Json(new { @object = "list", data = page.Data, has_more = page.HasMore }, ApiJson.Options);
    }

    /// <summary>CSV: the opening balance, one line per entry in the range (oldest first), the closing balance.</summary>
    private static async Task<IResult> StatementAsync(HttpContext http, string id, LedgerReadModel ledger)
    {
        if (ReportsApi.Range(http, out var from, out var to) is { } error)
        {
            return error;
        }

        var tenant = http.Tenant().TenantId;
        if (!Ids.IsWellFormed(id, "acct_") || await ledger.AccountAsync(tenant, id, http.RequestAborted) is null)
        {
            return ProblemResults.NotFound(http, "account");
        }

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"statement-{id}-{from:yyyyMMdd}-{to:yyyyMMdd}.csv\"";
        await ledger.WriteStatementAsync(tenant, id, from, to, http.Response.Body, http.RequestAborted);
        return Results.Empty;
    }
}
