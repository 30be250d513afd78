using FinCore.Runtime.Hosting;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Persistence;

namespace FinCore.Silo;

internal static class HealthEndpoints
{
    /// <summary>Live: the process answers. Ready: the silo is Active in the cluster and the database answers.</summary>
    public static void MapSiloHealth(this WebApplication app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
        app.MapGet("/metrics", (FinCore.Runtime.Telemetry.PrometheusMetrics metrics) => Results.Text(metrics.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/health/ready", async (SiloHost silo, Database db, CancellationToken ct) =>
        {
            var databaseOk = await db.PingAsync(TimeSpan.FromSeconds(2), ct);

            var body = new
            {
                status = databaseOk && silo.Status == SiloStatus.Active ? "ready" : "not_ready",
                silo_id = silo.SiloId,
                silo_status = silo.Status.ToString(),
                database = databaseOk ? "ok" : "unreachable",
                activations = silo.ActivationCount,
                membership_version = silo.View.Version,
            };
            return body.status == "ready" ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }
}
