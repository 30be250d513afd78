using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinCore.Tests.Infrastructure;

/// <summary>
/// A small HTTP server for testing LoadGen itself: answers a trivial GET, a fake slice of the FinCore API
/// (tenant, create, get, list), and can stall every request for a while once, like a paused process.
/// </summary>
internal sealed class LoadTestServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, int> reads = new();
    private readonly ConcurrentDictionary<string, FakeCharge> created = new();
    private long requests;
    private long charges;
    private long lists;
    private int slowEvery;
    private TimeSpan delay;
    private long stallAfter = long.MaxValue;
    private TimeSpan stallFor;
    private Task? stall;

    private LoadTestServer(WebApplication app) => this.app = app;

    public string Url { get; private set; } = "";

    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Created charges read back at least once by id (the get operation used real ids).</summary>
    public int ChargesRead => reads.Count;

    public long ChargesCreated => Interlocked.Read(ref charges);

    /// <summary>Reads of charges by id, all of them.</summary>
    public int ReadsById => reads.Values.Sum();

    /// <summary>Requests for the charge list.</summary>
    public long ListRequests => Interlocked.Read(ref lists);

    /// <summary>Requests seen per HTTP protocol ("HTTP/1.1", "HTTP/2").</summary>
    public ConcurrentDictionary<string, int> Protocols { get; } = new();

    /// <summary>Connections seen (by remote port).</summary>
    public ConcurrentDictionary<int, int> Connections { get; } = new();

    /// <summary><paramref name="slowEvery"/>: every n-th charge created stays processing for 2 s (the others are
    /// succeeded 250 ms after their creation, as soon as they exist). <paramref name="delay"/>: every request is
    /// answered that much later (a deliberately slowed server).</summary>
    public static async Task<LoadTestServer> StartAsync(bool http2Only = false, int slowEvery = 0, TimeSpan delay = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = FreePort.Next();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
            l.Protocols = http2Only ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        var app = builder.Build();
        var server = new LoadTestServer(app) { Url = $"http://127.0.0.1:{port}", slowEvery = slowEvery, delay = delay };
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

            if (server.delay > TimeSpan.Zero)
            {
                await Task.Delay(server.delay);
            }

            await next(ctx);
        });
        app.MapGet("/ping", () => Results.Text("ok"));
        app.MapGet("/v1/tenant", () => Results.Json(new { id = "ten_test", currency = "EUR" }));
        app.MapPost("/v1/charges", () =>
        {
            var n = Interlocked.Increment(ref server.charges);
            var charge = new FakeCharge("ch_" + n, DateTime.UtcNow, server.slowEvery > 0 && n % server.slowEvery == 0);
            server.created[charge.Id] = charge;
            return Results.Json(new { id = charge.Id, status = "processing", created_at = charge.CreatedAt }, statusCode: 202);
        });
        app.MapGet("/v1/charges/{id}", (string id) =>
        {
            server.reads.AddOrUpdate(id, 1, (_, c) => c + 1);
            return server.created.TryGetValue(id, out var charge)
                ? Results.Json(charge.View(DateTime.UtcNow))
                : Results.Json(new { id, status = "succeeded", created_at = "2026-11-22T10:00:00.000Z", updated_at = "2026-11-22T10:00:00.250Z" });
        });
        app.MapGet("/v1/charges", (HttpRequest request) =>
        {
            // API.md's list: created_gte / created_lt, newest first, starting_after, limit.
            Interlocked.Increment(ref server.lists);
            var q = request.Query;
            var gte = DateTime.Parse(q["created_gte"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            var lt = DateTime.Parse(q["created_lt"]!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
            var limit = int.Parse(q["limit"]!, CultureInfo.InvariantCulture);
            var rows = server.created.Values.Where(c => c.CreatedAt >= gte && c.CreatedAt < lt)
                .OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id, StringComparer.Ordinal).ToList();
            if (q["starting_after"].ToString() is { Length: > 0 } after)
            {
                rows = rows.SkipWhile(c => c.Id != after).Skip(1).ToList();
            }

            var now = DateTime.UtcNow;
            return Results.Json(new { @object = "list", data = rows.Take(limit).Select(c => c.View(now)), has_more = rows.Count > limit });
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

    private sealed record FakeCharge(string Id, DateTime CreatedAt, bool Slow)
    {
        private TimeSpan TakesToSettle => Slow ? TimeSpan.FromSeconds(2) : TimeSpan.FromMilliseconds(250);

        public object View(DateTime now) => now - CreatedAt >= TakesToSettle || !Slow
            ? new { id = Id, status = "succeeded", created_at = CreatedAt, updated_at = CreatedAt + TakesToSettle }
            : new { id = Id, status = "processing", created_at = CreatedAt, updated_at = CreatedAt };
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
