using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinCore.Tests.Infrastructure;

/// <summary>
/// A small HTTP server for testing LoadGen itself: answers a trivial GET, a fake slice of the FinCore API
/// (tenant, create, get), and can stall every request for a while once, like a paused process.
/// </summary>
internal sealed class LoadTestServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, int> reads = new();
    private long requests;
    private long charges;
    private long stallAfter = long.MaxValue;
    private TimeSpan stallFor;
    private Task? stall;

    private LoadTestServer(WebApplication app) => this.app = app;

    public string Url { get; private set; } = "";

    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Created charges read back at least once by id (the get operation used real ids).</summary>
    public int ChargesRead => reads.Count;

    public long ChargesCreated => Interlocked.Read(ref charges);

    /// <summary>Requests seen per HTTP protocol ("HTTP/1.1", "HTTP/2").</summary>
    public ConcurrentDictionary<string, int> Protocols { get; } = new();

    /// <summary>Connections seen (by remote port).</summary>
    public ConcurrentDictionary<int, int> Connections { get; } = new();

    public static async Task<LoadTestServer> StartAsync(bool http2Only = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = FreePort.Next();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
            l.Protocols = http2Only ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        var app = builder.Build();
        var server = new LoadTestServer(app) { Url = $"http://127.0.0.1:{port}" };
        app.Use(async (ctx, next) =>
        {
            var n = Interlocked.Increment(ref server.requests);
            server.Protocols.AddOrUpdate(ctx.Request.Protocol, 1, (_, c) => c + 1);
            server.Connections.TryAdd(ctx.Connection.RemotePort, 0);
            if (n == server.stallAfter)
            {
                server.stall = Task.Delay(server.stallFor);
            }

            if (server.stall is { IsCompleted: false } s)
            {
                await s;
            }

            await next(ctx);
        });
        app.MapGet("/ping", () => Results.Text("ok"));
        app.MapGet("/v1/tenant", () => Results.Json(new { id = "ten_test", currency = "EUR" }));
        app.MapPost("/v1/charges", () =>
        {
            var id = "ch_" + Interlocked.Increment(ref server.charges);
            return Results.Json(new { id, status = "created" }, statusCode: 202);
        });
        app.MapGet("/v1/charges/{id}", (string id) =>
        {
            server.reads.TryAdd(id, 0);
            return Results.Json(new { id, status = "succeeded", created_at = "2026-11-22T10:00:00.000Z", updated_at = "2026-11-22T10:00:00.250Z" });
        });
        await app.StartAsync();
        return server;
    }

    /// <summary>Once the server has seen <paramref name="afterRequests"/> requests, every request waits until <paramref name="duration"/> has passed.</summary>
    public void StallOnce(long afterRequests, TimeSpan duration)
    {
        stallFor = duration;
        Interlocked.Exchange(ref stallAfter, afterRequests);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
