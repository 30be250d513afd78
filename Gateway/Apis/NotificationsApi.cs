using FinCore.Cluster;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Gateway.Validation;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

/// <summary>Notifications (API.md, "Notifications"): the delivery log, and each customer's channels.</summary>
internal static class NotificationsApi
{
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/notifications").RequireTenant().WithTags("Notifications").MapGet("", ListAsync);
        var prefs = app.MapGroup("/v1/customers/{id}/notification-preferences").RequireTenant().WithTags("Notifications");
        prefs.MapGet("", GetPreferencesAsync);
        prefs.MapPut("", SetPreferencesAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, LedgerReadModel ledger)
    {
        if (!Paging.TryLimit(http, out var limit, out var limitError))
        {
            return limitError;
        }

        string? customer = http.Request.Query["customer"];
        if (customer is not null && !Ids.IsWellFormed(customer, "cus_"))
        {
            return ProblemResults.Invalid(http, "customer", "must be a customer id");
        }

        string? channel = http.Request.Query["channel"];
        if (channel is not (null or "email" or "push"))
        {
            return ProblemResults.Invalid(http, "channel", "must be email or push");
        }

        if (!Paging.TryStartingAfter(http, "ntf_", "notification", out var startingAfter, out var afterError))
        {
            return afterError;
        }

        var page = await ledger.NotificationsAsync(http.Tenant().TenantId, customer, channel, limit, startingAfter, http.RequestAborted);
        return Paging.List(http, page, "notification");
    }

    private static async Task<IResult> GetPreferencesAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(http.Tenant().TenantId, id));
        return View(id, await GrainCallRetry.IdempotentAsync(grain.Preferences, cancellationToken: http.RequestAborted));
    }

    private static async Task<IResult> SetPreferencesAsync(HttpContext http, string id, IGrainFactory grains)
    {
        if (!Ids.IsWellFormed(id, "cus_"))
        {
            return ProblemResults.NotFound(http, "customer");
        }

        var (request, error) = await CustomersApi.ParseAsync(http, ParsePreferences);
        if (request is null)
        {
            return error!;
        }

        var grain = grains.Grain<ICustomerGrain>(Ids.Key(http.Tenant().TenantId, id));
        return View(id, await GrainCallRetry.IdempotentAsync(() => grain.SetPreferences(request.Email, request.Push), cancellationToken: http.RequestAborted));
    }

    private static IResult View(string customer, NotificationPreferences p) =>
        TypedResults.Json(new { @object = "notification_preferences", customer, email = p.Email, push = p.Push }, ApiJson.Options);

    private sealed record PreferencesRequest(bool? Email, bool? Push);

    /// <summary><c>{ "email": bool, "push": bool }</c>, either or both; nothing else.</summary>
    private static PreferencesRequest? ParsePreferences(System.Text.Json.JsonElement body, Dictionary<string, string[]> errors)
    {
        bool? email = null, push = null;
        foreach (var p in body.EnumerateObject())
        {
            if (p.Name is not ("email" or "push"))
            {
                errors[p.Name] = ["is not a preference (email, push)"];
                return null;
            }

            if (p.Value.ValueKind is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
            {
                errors[p.Name] = ["must be true or false"];
                return null;
            }

            if (p.Name == "email")
            {
                email = p.Value.GetBoolean();
            }
            else
            {
                push = p.Value.GetBoolean();
            }
        }

        if (email is null && push is null)
        {
            errors["email"] = ["or push must be given"];
            return null;
        }

        return new PreferencesRequest(email, push);
    }
}
