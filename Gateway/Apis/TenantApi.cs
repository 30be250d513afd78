using FinCore.Gateway.Problems;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Validation;
using FinCore.Grains;
using FinCore.Runtime;

namespace FinCore.Gateway.Apis;

internal static class TenantApi
{
    public static RouteGroupBuilder MapTenantApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenant").RequireTenant().WithTags("Tenant");
        api.MapGet("", GetAsync);
        api.MapPut("/webhook", SetWebhookAsync);
        return api;
    }

    private static async Task<IResult> GetAsync(HttpContext http, IGrainFactory grains) =>
        TypedResults.Json(Shape(await grains.GetGrain<ITenantGrain>(http.Tenant().TenantId).Get()), ApiJson.Options);

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
        await grains.GetGrain<ITenantGrain>(http.Tenant().TenantId).SetWebhook(uri.ToString(), secret);
        return TypedResults.Json(new { url = uri.ToString(), secret }, ApiJson.Options);
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
        created_at = t.CreatedAt,
    };
}
