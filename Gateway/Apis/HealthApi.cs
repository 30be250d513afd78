using FinCore.Gateway.Dashboard;
using FinCore.Persistence;

namespace FinCore.Gateway.Apis;

internal static class HealthApi
{
    /// <summary>Live: the process answers. Ready: the database answers and at least one silo is Active.</summary>
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" })).WithTags("Health");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/health/ready", async (Database db, ClusterSnapshots cluster, CancellationToken ct) =>
        {
            var databaseOk = await db.PingAsync(TimeSpan.FromSeconds(2), ct);
            var active = databaseOk ? (await cluster.MembershipAsync(ct)).Silos.Count(s => s.Status == "active") : 0;
            var body = new { status = databaseOk && active > 0 ? "ready" : "not_ready", database = databaseOk ? "ok" : "unreachable", active_silos = active };
            return databaseOk && active > 0 ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).WithTags("Health");
    }
}
