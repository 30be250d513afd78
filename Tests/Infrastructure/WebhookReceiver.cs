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

    public int BadSignatures;
    public int Received;

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
            if (!Verify(http.Request.Headers["FinCore-Signature"].ToString(), body))
            {
                Interlocked.Increment(ref BadSignatures);
                return Results.StatusCode(400);
            }

            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            Events.TryAdd(root.GetProperty("id").GetString()!, (root.GetProperty("type").GetString()!,
                root.GetProperty("data").GetProperty("object").GetProperty("id").GetString()!));
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
