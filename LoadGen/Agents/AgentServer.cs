using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FinCore.LoadGen.Agents;

/// <summary>
/// <c>loadgen agent</c>: waits for a coordinator's work over HTTP. Every request must carry the shared token
/// (<c>Authorization: Bearer T</c>); anything else is refused with 401 before it is read.
/// </summary>
internal static class AgentServer
{
    public static async Task<int> RunAsync(string listen, string token, string? dumpLatencies)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://" + listen);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = AgentJson.Options.PropertyNamingPolicy;
            o.SerializerOptions.NumberHandling = AgentJson.Options.NumberHandling;
            foreach (var c in AgentJson.Options.Converters)
            {
                o.SerializerOptions.Converters.Add(c);
            }
        });
        await using var app = builder.Build();
        var run = new AgentRun(dumpLatencies);
        var expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (ctx, next) =>
        {
            var given = Encoding.UTF8.GetBytes(ctx.Request.Headers.Authorization.ToString());
            if (!CryptographicOperations.FixedTimeEquals(given, expected))
            {
                ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(ctx).ConfigureAwait(false);
        });
        app.MapGet("/v1/agent", () => TypedResults.Ok(run.Status()));
        app.MapPost("/v1/agent/prepare", (AgentWork work) => run.Prepare(work) is { } refused ? Results.Conflict(refused) : Results.Accepted());
        app.MapPost("/v1/agent/start", (AgentStart start) => run.Start(start) is { } refused ? Results.Conflict(refused) : Results.Accepted());
        app.MapPost("/v1/agent/stop", (AgentStop stop) =>
        {
            run.Stop(stop);
            return Results.Accepted();
        });
        app.MapGet("/v1/agent/seconds", (int? from, int? segments_from) => TypedResults.Ok(run.Seconds(from ?? 0, segments_from ?? 0)));
        app.MapPost("/v1/agent/end-phase", (AgentStop reason) =>
        {
            run.EndPhase(reason.Reason);
            return Results.Accepted();
        });
        app.MapGet("/v1/agent/result", () => run.Result() is { } r ? Results.Ok(r) : Results.Conflict("not done"));

        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? listen;
        Console.WriteLine($"loadgen agent listening on {address}");
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }
}
