using FinCore.Cluster;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class TransfersApi
{
    public static RouteGroupBuilder MapTransfersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/transfers").RequireTenant().WithTags("Transfers");
        api.MapPost("", CreateAsync);
        api.MapGet("", ListAsync);
        api.MapGet("/{id}", GetAsync);
        return api;
    }

    /// <summary>Settled before the answer: <c>201</c> with both entries written, or <c>422 insufficient_funds</c> with
    /// nothing moved; the same answer for every retry under the same Idempotency-Key.</summary>
    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var tenant = http.Tenant();
        if (!IdempotencyKeys.TryRead(http, out var key, out var keyError))
        {
            return keyError;
        }

        var (request, error) = await CustomersApi.ParseAsync(http, CreateTransferRequest.Parse);
        if (request is null)
        {
            return error!;
        }

        if (request.Currency is { } currency && currency != tenant.Currency)
        {
            return ProblemResults.Invalid(http, "currency", $"must be the tenant's currency ({tenant.Currency})");
        }

        var transferId = key is null ? Ids.New("tr_") : Ids.IdFor("tr_", tenant.TenantId, key);
        var command = new TransferCommand(tenant.TenantId, transferId, request.From, request.To, request.Amount, tenant.Currency,
            request.Description, request.Fingerprint());
        var payer = grains.Grain<IAccountGrain>(Ids.Key(tenant.TenantId, request.From));
        var result = await GrainCallRetry.IdempotentAsync(() => payer.Transfer(command), cancellationToken: http.RequestAborted);
        IdempotencyKeys.MarkReplayed(http, result.Replayed, key);
        if (result.Transfer.Status == "failed")
        {
            return ProblemResults.Result(http, 422, "insufficient_funds",
                $"Account {request.From} cannot cover {request.Amount}; nothing was moved (transfer {result.Transfer.Id}).");
        }

        http.Response.Headers.Location = "/v1/transfers/" + result.Transfer.Id;
        return TypedResults.Json(result.Transfer, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string id, LedgerReadModel ledger)
    {
        var transfer = Ids.IsWellFormed(id, "tr_") ? await ledger.TransferAsync(http.Tenant().TenantId, id, http.RequestAborted) : null;
        return transfer is null ? ProblemResults.NotFound(http, "transfer") : TypedResults.Json(transfer, ApiJson.Options);
    }

    private static async Task<IResult> ListAsync(HttpContext http, LedgerReadModel ledger)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        string? account = http.Request.Query["account"];
        if (account is not null && !Ids.IsWellFormed(account, "acct_"))
        {
            return ProblemResults.Invalid(http, "account", "must be an account id (acct_…)");
        }

        if (!Paging.TryStartingAfter(http, "tr_", "transfer", out var startingAfter, out var afterError))
        {
            return afterError;
        }

        var page = await ledger.TransfersAsync(http.Tenant().TenantId, account, limit, startingAfter, http.RequestAborted);
        return Paging.List(http, page, "transfer");
    }
}
