using FinCore.Cluster;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class RefundsApi
{
    public static IEndpointRouteBuilder MapRefundsApi(this IEndpointRouteBuilder app)
    {
        var charges = app.MapGroup("/v1/charges/{id}/refunds").RequireTenant().WithTags("Refunds");
        charges.MapPost("", CreateAsync);
        charges.MapGet("", ListForChargeAsync);
        var refunds = app.MapGroup("/v1/refunds").RequireTenant().WithTags("Refunds");
        refunds.MapGet("", ListAsync);
        refunds.MapGet("/{id}", GetAsync);
        return app;
    }

    /// <summary><c>202</c> with the refund pending: the amount is reserved on the charge (and debited from the account it
    /// funded) before the answer; the PSP call follows. <c>422 amount_too_large</c> above what is left of the charge,
    /// <c>422 insufficient_funds</c> when the funded account cannot cover it, <c>409</c> for a charge that did not succeed.</summary>
    private static async Task<IResult> CreateAsync(HttpContext http, string id, IGrainFactory grains)
    {
        var tenant = http.Tenant();
        if (!IdempotencyKeys.TryRead(http, out var key, out var keyError))
        {
            return keyError;
        }

        // No body at all refunds what is left; a body is JSON like any other.
        CreateRefundRequest? request = CreateRefundRequest.Rest;
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
        {
            (request, var error) = await CustomersApi.ParseAsync(http, CreateRefundRequest.Parse);
            if (request is null)
            {
                return error!;
            }
        }

        if (!Ids.IsWellFormed(id, "ch_"))
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var refundId = key is null ? Ids.New("re_") : Ids.IdFor("re_", tenant.TenantId, key);
        var command = new RefundCommand(tenant.TenantId, refundId, request.Amount, request.Fingerprint(id));
        var charge = grains.Grain<IChargeGrain>(Ids.ChargeKey(tenant.TenantId, id));
        var result = await GrainCallRetry.IdempotentAsync(() => charge.Refund(command), cancellationToken: http.RequestAborted);
        IdempotencyKeys.MarkReplayed(http, result.Replayed, key);
        http.Response.Headers.Location = "/v1/refunds/" + result.Refund.Id;
        return TypedResults.Json(result.Refund, ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string id, LedgerReadModel ledger)
    {
        var refund = Ids.IsWellFormed(id, "re_") ? await ledger.RefundAsync(http.Tenant().TenantId, id, http.RequestAborted) : null;
        return refund is null ? ProblemResults.NotFound(http, "refund") : TypedResults.Json(refund, ApiJson.Options);
    }

    private static async Task<IResult> ListForChargeAsync(HttpContext http, string id, ReadModel charges, LedgerReadModel ledger)
    {
        if (!Ids.IsWellFormed(id, "ch_") || await charges.TenantOfChargeAsync(id, http.RequestAborted) != http.Tenant().TenantId)
        {
            return ProblemResults.NotFound(http, "charge");
        }

        return await ListPageAsync(http, id, ledger);
    }

    private static Task<IResult> ListAsync(HttpContext http, LedgerReadModel ledger)
    {
        string? charge = http.Request.Query["charge"];
        return charge is not null && !Ids.IsWellFormed(charge, "ch_")
            ? Task.FromResult(ProblemResults.Invalid(http, "charge", "must be a charge id (ch_…)"))
            : ListPageAsync(http, charge, ledger);
    }

    private static async Task<IResult> ListPageAsync(HttpContext http, string? charge, LedgerReadModel ledger)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        if (!Paging.TryStartingAfter(http, "re_", "refund", out var startingAfter, out var afterError))
        {
            return afterError;
        }

        var page = await ledger.RefundsAsync(http.Tenant().TenantId, charge, limit, startingAfter, http.RequestAborted);
        return Paging.List(http, page, "refund");
    }
}
