using FinCore.Cluster;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class CustomersApi
{
    public static RouteGroupBuilder MapCustomersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/customers").RequireTenant().WithTags("Customers");
        api.MapPost("", CreateAsync);
        api.MapGet("", ListAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapPatch("/{id}", UpdateAsync);
        return api;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var tenant = http.Tenant();
        if (!IdempotencyKeys.TryRead(http, out var key, out var keyError))
        {
            return keyError;
        }

        var (request, error) = await ParseAsync(http, CreateCustomerRequest.Parse);
        if (request is null)
        {
            return error!;
        }

        // With a key the ids are derived, so every retry lands on the same customer and account; without one they are
        // drawn here, before the call, so the gateway can repeat the call after a silo failure.
        var customerId = key is null ? Ids.New("cus_") : Ids.IdFor("cus_", tenant.TenantId, key);
        var accountId = key is null ? Ids.New("acct_") : Ids.IdFor("acct_", tenant.TenantId, key);
        var command = new CreateCustomerCommand(tenant.TenantId, customerId, accountId, tenant.Currency, request.Kind, request.Name,
            request.Email, request.Document, request.Phone, request.Metadata, request.Fingerprint());
        var grain = grains.Grain<ICustomerGrain>(Ids.Key(tenant.TenantId, customerId));
        var result = await GrainCallRetry.IdempotentAsync(() => grain.Create(command), cancellationToken: http.RequestAborted);
        IdempotencyKeys.MarkReplayed(http, result.Replayed, key);
        http.Response.Headers.Location = "/v1/customers/" + result.Customer.Id;
        return TypedResults.Json(result.Customer, ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(http.Tenant().TenantId, id));
        return TypedResults.Json(await GrainCallRetry.IdempotentAsync(grain.Get, cancellationToken: http.RequestAborted), ApiJson.Options);
    }

    private static async Task<IResult> UpdateAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var (request, error) = await ParseAsync(http, UpdateCustomerRequest.Parse);
        if (request is null)
        {
            return error!;
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(http.Tenant().TenantId, id));
        var command = new UpdateCustomerCommand(request.Name, request.Email, request.Phone, request.Metadata);
        return TypedResults.Json(await GrainCallRetry.IdempotentAsync(() => grain.Update(command), cancellationToken: http.RequestAborted), ApiJson.Options);
    }

    private static async Task<IResult> ListAsync(HttpContext http, LedgerReadModel ledger)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        if (!Paging.TryStartingAfter(http, "cus_", "customer", out var startingAfter, out var afterError))
        {
            return afterError;
        }

        string? email = http.Request.Query["email"];
        if (email is { Length: > 254 })
        {
            return ProblemResults.Invalid(http, "email", "must be at most 254 characters");
        }

        var page = await ledger.CustomersAsync(http.Tenant().TenantId, limit, startingAfter, email, http.RequestAborted);
        return Paging.List(http, page, "customer");
    }

    /// <summary>Reads the JSON body and parses it with <paramref name="parse"/>: the request, or the 4xx problem to answer.</summary>
    internal static async Task<(T? Request, IResult? Error)> ParseAsync<T>(HttpContext http, Func<System.Text.Json.JsonElement, Dictionary<string, string[]>, T?> parse)
        where T : class
    {
        var (doc, error) = await JsonBody.ReadObjectAsync(http);
        if (error is not null)
        {
            return (null, error);
        }

        var errors = new Dictionary<string, string[]>();
        T? request;
        using (doc)
        {
            request = parse(doc!.RootElement, errors);
        }

        if (request is null)
        {
            var first = errors.First();
            return (null, ProblemResults.Result(http, 400, "invalid_request", $"{first.Key} {first.Value[0]}", errors));
        }

        return (request, null);
    }
}
