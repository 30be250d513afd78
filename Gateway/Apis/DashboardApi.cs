using System.Reflection;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Dashboard;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class DashboardApi
{
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("dashboard.html")!;
        return new StreamReader(stream).ReadToEnd();
    });

    /// <summary>
    /// <c>/dashboard</c>: a page with no data of its own; it reads <c>/admin/v1/dashboard</c> every second with the
    /// operator token (taken from the URL fragment <c>#token=…</c>, which never reaches a server, or asked for).
    /// </summary>
    public static void MapDashboardApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/dashboard", () => Results.Content(Page.Value, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGroup("/admin/v1").RequireOperator().WithTags("Operator")
            .MapGet("/dashboard", (DashboardSampler sampler) => TypedResults.Json(sampler.Snapshot(), ApiJson.Options));
    }
}
