using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FinCore.LoadGen.Workloads;

/// <summary>The tenants' webhook endpoint during a run (<c>--webhook-sink</c>): each tenant's endpoint is
/// <c>/hook/{tenant}</c> here, set through <c>PUT /v1/tenant/webhook</c>. It checks <c>FinCore-Signature</c> as
/// API.md describes, answers after <c>--webhook-latency</c> (a receiver's own work), counts first arrivals,
/// duplicates and bad signatures, and records each event's delivery lag: arrival − the event's <c>created_at</c>.</summary>
internal sealed class WebhookSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _latency;
    private readonly ConcurrentDictionary<string, byte[]> _secrets = new();
    private readonly ConcurrentDictionary<string, byte> _seen = new();
    private long _received;
    private long _duplicates;
    private long _badSignatures;
    private long _lastArrival;

    private WebhookSink(WebApplication app, TimeSpan latency)
    {
        _app = app;
        _latency = latency;
    }

    /// <summary>Arrival − created_at of each event's first arrival, in microseconds.</summary>
    public Latencies Lag { get; } = new();

    public long Received => Interlocked.Read(ref _received);

    public long Unique => _seen.Count;

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long BadSignatures => Interlocked.Read(ref _badSignatures);

    public string BaseUrl { get; private set; } = "";

    public static async Task<WebhookSink> StartAsync(string host, TimeSpan latency, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(host), 0));
        var app = builder.Build();
        var sink = new WebhookSink(app, latency);
        app.MapPost("/hook/{tenant}", sink.ReceiveAsync);
        await app.StartAsync(ct).ConfigureAwait(false);
        var address = app.Urls.First();
        sink.BaseUrl = address.Replace("0.0.0.0", host, StringComparison.Ordinal).TrimEnd('/');
        return sink;
    }

    /// <summary>Points each tenant's webhook here and keeps the secret each answer carries.</summary>
    public async Task SubscribeAsync(Uri target, IEnumerable<TenantContext> tenants, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var t in tenants)
        {
            using var req = new HttpRequestMessage(HttpMethod.Put, "/v1/tenant/webhook")
            {
                Content = new StringContent(JsonSerializer.Serialize(new { url = $"{BaseUrl}/hook/{t.Id}" }), Encoding.UTF8, "application/json"),
            };
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", t.ApiKey);
            using var res = await http.SendAsync(req, ct).ConfigureAwait(false);
            var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!res.IsSuccessStatusCode)
            {
                throw new SetupException($"PUT /v1/tenant/webhook answered {(int)res.StatusCode}: {body}");
            }

            using var doc = JsonDocument.Parse(body);
            _secrets[t.Id] = Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("secret").GetString()!);
        }
    }

    /// <summary>Waits until no event has arrived for <paramref name="quiet"/>, or <paramref name="limit"/> passed.</summary>
    public async Task SettleAsync(TimeSpan quiet, TimeSpan limit, CancellationToken ct)
    {
        var end = Clock.Now + Clock.FromSpan(limit);
        Interlocked.CompareExchange(ref _lastArrival, Clock.Now, 0);
        while (Clock.Now < end && Clock.Seconds(Clock.Now - Interlocked.Read(ref _lastArrival)) < quiet.TotalSeconds)
        {
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    private async Task<IResult> ReceiveAsync(HttpContext http, string tenant)
    {
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
        var arrived = DateTimeOffset.UtcNow;
        Interlocked.Exchange(ref _lastArrival, Clock.Now);
        Interlocked.Increment(ref _received);
        if (_latency > TimeSpan.Zero)
        {
            await Task.Delay(_latency, http.RequestAborted).ConfigureAwait(false);
        }

        var body = buffer.ToArray();
        if (!_secrets.TryGetValue(tenant, out var secret) || !Verify(http.Request.Headers["FinCore-Signature"].ToString(), body, secret))
        {
            Interlocked.Increment(ref _badSignatures);
            return Results.StatusCode(400);
        }

        using var doc = JsonDocument.Parse(body);
        var id = doc.RootElement.GetProperty("id").GetString()!;
        if (_seen.TryAdd(id, 0))
        {
            var created = doc.RootElement.GetProperty("created_at").GetDateTimeOffset();
            Lag.Record(Math.Max(0, (long)((arrived - created).TotalMilliseconds * 1000)));
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }

        return Results.Ok();
    }

    /// <summary><c>FinCore-Signature: t=&lt;unix seconds&gt;,v1=hex(HMAC-SHA256(secret, "t.raw body"))</c>, t within 5 minutes.</summary>
    private static bool Verify(string header, byte[] body, byte[] secret)
    {
        string? t = null, v1 = null;
        foreach (var part in header.Split(','))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2 && kv[0] == "t")
            {
                t = kv[1];
            }
            else if (kv.Length == 2 && kv[0] == "v1")
            {
                v1 = kv[1];
            }
        }

        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) ||
            Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - unix) > 300)
        {
            return false;
        }

        var signed = new byte[t.Length + 1 + body.Length];
        Encoding.ASCII.GetBytes(t, signed);
        signed[t.Length] = (byte)'.';
        body.CopyTo(signed, t.Length + 1);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(secret, signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
