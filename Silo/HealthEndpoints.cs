using FinCore.Persistence;

namespace FinCore.Silo;

internal static class HealthEndpoints
{
    /// <summary>Live: the process answers. Ready: the silo is Active in the cluster and the database answers.</summary>
    public static void MapSiloHealth(this WebApplication app)
    {
        app.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" }));
        app.MapGet("/health/ready", async (IClusterMembershipService membership, ILocalSiloDetails local, Database db, CancellationToken ct) =>
        {
            var databaseOk = await db.PingAsync(TimeSpan.FromSeconds(2), ct);
            var snapshot = membership.CurrentSnapshot;
            var status = snapshot.GetSiloStatus(local.SiloAddress);
            var body = new
            {
                status = databaseOk && status == SiloStatus.Active ? "ready" : "not_ready",
                silo_id = local.SiloAddress.ToParsableString(),
                silo_name = local.Name,
                silo_status = status.ToString(),
                database = databaseOk ? "ok" : "unreachable",
                membership_version = snapshot.Version.Value,
            };
            return body.status == "ready" ? Results.Ok(body) : Results.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
        });
    }
}
