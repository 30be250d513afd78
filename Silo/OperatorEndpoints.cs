using System.Security.Cryptography;
using System.Text;
using Orleans.Dashboard;

namespace FinCore.Silo;

/// <summary>What a silo's HTTP port serves operators besides health: Prometheus metrics and the Orleans dashboard.</summary>
internal static class OperatorEndpoints
{
    /// <summary>The Orleans dashboard at <c>/dashboard</c>, for the operator token only. Browsers cannot attach a bearer
    /// token to the page's own requests, so the token is also accepted as the password of HTTP Basic authentication
    /// (any user name): the browser asks once and sends it with every request after.</summary>
    public static void MapOperatorEndpoints(this WebApplication app, string? adminToken)
    {
        app.MapPrometheusScrapingEndpoint("/metrics");
        var dashboard = app.MapOrleansDashboard(routePrefix: "/dashboard");
        dashboard.AddEndpointFilter(async (context, next) =>
        {
            if (IsOperator(context.HttpContext.Request, adminToken))
            {
                return await next(context);
            }

            context.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"FinCore operators\", charset=\"UTF-8\"";
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "The dashboard is for operators: give the operator token (FINCORE_ADMIN_TOKEN) as a bearer token or as the Basic password.");
        });
    }

    private static bool IsOperator(HttpRequest request, string? adminToken)
    {
        if (string.IsNullOrEmpty(adminToken))
        {
            return false; // no token configured: nobody is an operator
        }

        var header = request.Headers.Authorization.ToString();
        string? given = null;
        if (header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            given = header["Bearer ".Length..];
        }
        else if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..]));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                given = colon < 0 ? null : decoded[(colon + 1)..];
            }
            catch (FormatException)
            {
                return false;
            }
        }

        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(adminToken));
    }
}
