using System.Globalization;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Grains;
using FinCore.Cluster;

namespace FinCore.Gateway.Apis;

internal static class DeadLettersApi
{
    public static void MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/admin/v1/dead-letters").RequireOperator().WithTags("Operator");
        api.MapGet("", ListAsync);
        api.MapPost("/{chargeId}/retry", (HttpContext http, string chargeId, ReadModel rm, IGrainFactory g) => ActAsync(http, chargeId, rm, g, retry: true));
        api.MapPost("/{chargeId}/discard", (HttpContext http, string chargeId, ReadModel rm, IGrainFactory g) => ActAsync(http, chargeId, rm, g, retry: false));
    }

    private static async Task<IResult> ListAsync(HttpContext http, ReadModel readModel)
    {
        var limit = 50;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 500))
        {
            return ProblemResults.Invalid(http, "limit", "must be an integer from 1 to 500");
        }

        var rows = await readModel.DeadLettersAsync(limit, http.RequestAborted);
        return TypedResults.Json(new
        {
            @object = "list",
            data = rows.Select(r => new
            {
                charge_id = r.ChargeId, tenant_id = r.TenantId, amount = r.Amount, currency = r.Currency, attempts = r.Attempts,
                last_error = r.LastError, dead_lettered_at = r.At,
            }),
        }, ApiJson.Options);
    }

    private static async Task<IResult> ActAsync(HttpContext http, string chargeId, ReadModel readModel, IGrainFactory grains, bool retry)
    {
        var tenant = Ids.IsWellFormed(chargeId, "ch_") ? await readModel.TenantOfChargeAsync(chargeId, http.RequestAborted) : null;
        if (tenant is null)
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var grain = grains.Grain<IChargeGrain>(Ids.ChargeKey(tenant, chargeId));
        var charge = await GrainCallRetry.IdempotentAsync(() => retry ? grain.RetryDeadLetter() : grain.DiscardDeadLetter(), cancellationToken: http.RequestAborted);
        return TypedResults.Json(charge, ApiJson.Options);
    }
}
