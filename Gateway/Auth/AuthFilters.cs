using System.Security.Cryptography;
using System.Text;
using FinCore.Gateway.Problems;

namespace FinCore.Gateway.Auth;

/// <summary>Endpoint filters: tenant routes need a live tenant key; admin routes need the operator token
/// (a tenant key there is 403, anything else 401).</summary>
internal static class AuthFilters
{
    private const string TenantItem = "fincore.tenant";

    public static TenantContext Tenant(this HttpContext http) => (TenantContext)http.Items[TenantItem]!;

    public static RouteGroupBuilder RequireTenant(this RouteGroupBuilder group) => group.AddEndpointFilter(async (ctx, next) =>
    {
        var http = ctx.HttpContext;
        var token = Bearer(http);
        var keys = http.RequestServices.GetRequiredService<ApiKeys>();
        var tenant = token is null ? null : await keys.AuthenticateAsync(token, http.RequestAborted);
        if (tenant is null)
        {
            return Unauthorized(http, token is null ? "Missing or malformed Authorization header: use 'Bearer <api key>'." : "Unknown or revoked API key.");
        }

        http.Items[TenantItem] = tenant;
        if (!http.RequestServices.GetRequiredService<TenantRateLimiter>().TryAcquire(tenant, out var retryAfter))
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return ProblemResults.Result(http, 429, "rate_limited", $"More than {tenant.Limits.RequestsPerSecond} requests per second for this tenant.");
        }

        return await next(ctx);
    });

    public static RouteGroupBuilder RequireOperator(this RouteGroupBuilder group) => group.AddEndpointFilter(async (ctx, next) =>
    {
        var http = ctx.HttpContext;
        var token = Bearer(http);
        var expected = http.RequestServices.GetRequiredService<GatewayOptions>().AdminToken;
        if (token is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected)))
        {
            return await next(ctx);
        }

        if (token is not null && await http.RequestServices.GetRequiredService<ApiKeys>().AuthenticateAsync(token, http.RequestAborted) is not null)
        {
            return ProblemResults.Result(http, 403, "forbidden", "Tenant keys cannot use operator routes.");
        }

        return Unauthorized(http, "Operator routes need 'Authorization: Bearer <FINCORE_ADMIN_TOKEN>'.");
    });

    private static IResult Unauthorized(HttpContext http, string detail)
    {
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ProblemResults.Result(http, 401, "unauthorized", detail);
    }

    /// <summary>The bearer token of the request (null: none, several, or malformed).</summary>
    internal static string? Bearer(HttpContext http)
    {
        var values = http.Request.Headers.Authorization;
        if (values.Count != 1)
        {
            return null;
        }

        var value = values[0];
        if (value is null || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = value[7..].Trim();
        return token.Length is > 0 and <= 512 ? token : null;
    }
}
