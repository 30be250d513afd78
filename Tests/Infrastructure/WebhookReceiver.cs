using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinCore.Tests.Infrastructure;

/// <summary>A tenant's webhook endpoint written only from API.md: it checks <c>FinCore-Signature</c>
/// (<c>t=&lt;unix&gt;,v1=hex(HMAC-SHA256(secret, "t.raw body"))</c>), dedupes on the event id, and can be taken down.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;

    public WebhookReceiver(int port) => Port = port;

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    public string Secret { get; set; } = "";

    /// <summary>Event id → (type, charge id), first arrival only.</summary>
    public ConcurrentDictionary<string, (string Type, string ChargeId)> Events { get; } = new();

    /// <summary>Accepted deliveries in the order they arrived (repeats included).</summary>
    public ConcurrentQueue<(string EventId, string Type, string ChargeId)> Arrivals { get; } = new();

    /// <summary>Each delivery is answered after this long (the receiver's own work).</summary>
    public TimeSpan Hold { get; set; }

    /// <summary>Accepts connections and never answers (the sender must time out).</summary>
    public bool Hang { get; set; }

    /// <summary>Answers 500 to a delivery of an event for which this returns true (type, charge id).</summary>
    public Func<string, string, bool>? Reject { get; set; }

    public int BadSignatures;
    public int Received;
    public int Rejected;
    public int InFlight;
    public int MaxInFlight;

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            Interlocked.Increment(ref Received);
            var inFlight = Interlocked.Increment(ref InFlight);
            try
            {
                int max;
                while (inFlight > (max = Volatile.Read(ref MaxInFlight)) && Interlocked.CompareExchange(ref MaxInFlight, inFlight, max) != max)
                {
                }

                if (Hang)
                {
                    await Task.Delay(Timeout.Infinite, http.RequestAborted);
                }

                if (Hold > TimeSpan.Zero)
                {
                    await Task.Delay(Hold, http.RequestAborted);
                }
            }
            finally
            {
                Interlocked.Decrement(ref InFlight);
            }

            if (!Verify(http.Request.Headers["FinCore-Signature"].ToString(), body))
            {
                Interlocked.Increment(ref BadSignatures);
                return Results.StatusCode(400);
            }

            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var (id, type, charge) = (root.GetProperty("id").GetString()!, root.GetProperty("type").GetString()!,
                root.GetProperty("data").GetProperty("object").GetProperty("id").GetString()!);
            if (Reject?.Invoke(type, charge) == true)
            {
                Interlocked.Increment(ref Rejected);
                return Results.StatusCode(500);
            }

            Arrivals.Enqueue((id, type, charge));
            Events.TryAdd(id, (type, charge));
            return Results.Ok();
        });
        await app.StartAsync();
        _app = app;
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private bool Verify(string header, string body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1) ||
            Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(t, CultureInfo.InvariantCulture)) > 300)
        {
            return false;
        }

        var expected = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(t + "." + body))).ToLowerInvariant();
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
