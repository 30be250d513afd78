using System.Globalization;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;
using FinCore.Cluster;

namespace FinCore.Gateway.Apis;

internal static class ChargesApi
{
    public static RouteGroupBuilder MapChargesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/charges").RequireTenant().WithTags("Charges");
        api.MapPost("", CreateAsync);
        api.MapGet("", ListAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapPost("/{id}/cancel", CancelAsync);
        api.MapGet("/{id}/events", EventsAsync);
        return api;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var tenant = http.Tenant();
        if (!IdempotencyKeys.TryRead(http, out var key, out var keyError))
        {
            return keyError;
        }

        var (doc, error) = await JsonBody.ReadObjectAsync(http);
        if (error is not null)
        {
            return error;
        }

        CreateChargeRequest? request;
        var errors = new Dictionary<string, string[]>();
        using (doc)
        {
            request = CreateChargeRequest.Parse(doc!.RootElement, errors);
        }

        if (request is null)
        {
            var first = errors.First();
            return ProblemResults.Result(http, 400, "invalid_request", $"{first.Key} {first.Value[0]}", errors);
        }

        if (request.Currency != tenant.Currency)
        {
            return ProblemResults.Invalid(http, "currency", $"must be the tenant's settlement currency ({tenant.Currency})");
        }

        if (request.Account is { } account
            && await GrainCallRetry.IdempotentAsync(() => grains.Grain<IAccountGrain>(Ids.Key(tenant.TenantId, account)).Info(), cancellationToken: http.RequestAborted) is null)
        {
            return ProblemResults.NotFound(http, "account: " + account);
        }

        // With a key the id is derived, so every retry lands on the same grain; without one it is drawn here,
        // before the call, so the gateway can repeat the call after a silo failure without making a second charge.
        var chargeId = key is null ? Ids.New("ch_") : Ids.ChargeIdFor(tenant.TenantId, key);
        var command = new CreateChargeCommand(tenant.TenantId, chargeId, request.Amount, request.Currency, request.PaymentMethod,
            request.Description, request.Customer, request.Metadata, request.Fingerprint(), tenant.Limits, request.Account);
        var grain = grains.Grain<IChargeGrain>(Ids.ChargeKey(tenant.TenantId, chargeId));
        var result = await GrainCallRetry.IdempotentAsync(() => grain.Create(command), cancellationToken: http.RequestAborted);
        IdempotencyKeys.MarkReplayed(http, result.Replayed, key);

        http.Response.Headers.Location = "/v1/charges/" + result.Charge.Id;
        return TypedResults.Json(result.Charge, ApiJson.Options, statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "ch_"))
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var grain = grains.Grain<IChargeGrain>(Ids.ChargeKey(http.Tenant().TenantId, id));
        var charge = await GrainCallRetry.IdempotentAsync(grain.Get, cancellationToken: http.RequestAborted);
        return TypedResults.Json(charge, ApiJson.Options);
    }

    private static async Task<IResult> CancelAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "ch_"))
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var grain = grains.Grain<IChargeGrain>(Ids.ChargeKey(http.Tenant().TenantId, id));
        var charge = await GrainCallRetry.IdempotentAsync(grain.Cancel, cancellationToken: http.RequestAborted);
        return TypedResults.Json(charge, ApiJson.Options);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ReadModel readModel)
    {
        var q = http.Request.Query;
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        string? startingAfter = q["starting_after"];
        if (startingAfter is not null && !Ids.IsWellFormed(startingAfter, "ch_"))
        {
            return ProblemResults.Invalid(http, "starting_after", "must be a charge id");
        }

        string? status = q["status"];
        if (status is not null && !ChargeStatusMachine.TryParseApi(status, out _))
        {
            return ProblemResults.Invalid(http, "status", "must be one of created, processing, succeeded, failed, canceled, dead_lettered");
        }

        if (!TryTime(q["created_gte"], out var gte) || !TryTime(q["created_lt"], out var lt))
        {
            return ProblemResults.Invalid(http, q["created_gte"].Count > 0 && !TryTime(q["created_gte"], out _) ? "created_gte" : "created_lt",
                "must be an RFC 3339 time (2026-11-21T10:00:00Z) or Unix seconds");
        }

        var page = await readModel.ListChargesAsync(http.Tenant().TenantId, new ReadModel.ListFilter(limit, startingAfter, status, gte, lt), http.RequestAborted);
        if (page is null)
        {
            return ProblemResults.Invalid(http, "starting_after", "names no charge of yours");
        }

        return TypedResults.Json(new { @object = "list", data = page.Value.Data, has_more = page.Value.HasMore }, ApiJson.Options);
    }

    private static async Task<IResult> EventsAsync(HttpContext http, string id, ReadModel readModel)
    {
        if (!Ids.IsWellFormed(id, "ch_"))
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var events = await readModel.ChargeEventsAsync(http.Tenant().TenantId, id, http.RequestAborted);
        if (events.Count == 0)
        {
            return ProblemResults.NotFound(http, "charge");
        }

        return TypedResults.Json(new
        {
            @object = "list",
            data = events.Select(e => new { id = e.Id, @object = "event", type = e.Type, created_at = e.CreatedAt, sequence = e.Sequence, data = new { @object = e.Charge } }),
            has_more = false,
        }, ApiJson.Options);
    }

    internal static bool TryTime(string? value, out DateTime? time)
    {
        time = null;
        if (value is null)
        {
            return true;
        }

        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && unix < 253402300800)
        {
            time = DateTime.UnixEpoch.AddSeconds(unix);
            return true;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) && value.Contains('T', StringComparison.Ordinal))
        {
            time = t.UtcDateTime;
            return true;
        }

        return false;
    }
}
