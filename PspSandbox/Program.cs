using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinCore.PspSandbox;

// A simulated external PSP: idempotent by key, a key captured at most once, latency and failures on demand,
// signed asynchronous callbacks, and a ledger to check it all against.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
var config = builder.Configuration;
var port = int.TryParse(config["FINCORE_HTTP_PORT"], out var p) ? p : 8090;
var secret = config["FINCORE_PSP_SECRET"] ?? "";
var callbackUrl = config["FINCORE_PSP_CALLBACK_URL"];
if (secret.Length < 16)
{
    await Console.Error.WriteLineAsync("fincore-psp-sandbox: FINCORE_PSP_SECRET must be set (16+ characters): it signs callbacks.");
    return 2;
}

builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(config["FINCORE_LISTEN_ADDRESS"] ?? "127.0.0.1"), port));
builder.Services.AddHttpClient("callbacks", c => c.Timeout = TimeSpan.FromSeconds(5));
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
var app = builder.Build();

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
var ledger = new Ledger();
var faults = new Faults();
var random = new Random();
var randomLock = new object();
double Roll()
{
    lock (randomLock)
    {
        return random.NextDouble();
    }
}

var callbacks = app.Services.GetRequiredService<IHttpClientFactory>();

app.MapGet("/health/live", () => Results.Ok(new { status = "live" }));

app.MapPost("/v1/payments", async (HttpContext http) =>
{
    var f = faults;
    if (Refuse(http, f, out var key) is { } refused)
    {
        return refused;
    }

    long amount;
    string currency;
    try
    {
        using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        amount = doc.RootElement.GetProperty("amount").GetInt64();
        currency = doc.RootElement.GetProperty("currency").GetString() ?? "";
        _ = doc.RootElement.GetProperty("payment_method").GetString();
    }
    catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
    {
        return Results.Json(new { error = "body needs amount, currency, payment_method" }, json, statusCode: 400);
    }

    await Task.Delay(DrawLatency(f), http.RequestAborted);
    if (ledger.Find(key) is null && Roll() < f.ErrorRate)
    {
        return Results.Json(new { error = "internal_error" }, json, statusCode: 500); // nothing recorded: safe to retry
    }

    var (payment, repeat) = ledger.GetOrCreate(key, () => new Ledger.Payment
    {
        Key = key, Reference = "psp_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant(), Amount = amount, Currency = currency,
    });
    if (!repeat)
    {
        if (Roll() < f.AsyncRate)
        {
            _ = ResolveLaterAsync(payment, f);
        }
        else if (Roll() < f.DeclineRate)
        {
            ledger.Decline(payment, Roll() < 0.5 ? "card_declined" : "insufficient_funds");
        }
        else
        {
            ledger.Capture(payment);
        }

        if (Roll() < f.TimeoutRate)
        {
            // Decided and recorded, but the answer never arrives: the caller times out not knowing.
            await Task.Delay(Timeout.InfiniteTimeSpan, http.RequestAborted);
        }
    }

    return Outcome(payment);
});

app.MapGet("/v1/payments/{key}", (string key) => ledger.Find(key) is { } payment ? Outcome(payment) : Results.Json(new { error = "not_found" }, json, statusCode: 404));

// Refunds: idempotent by key like payments, decided once (never more than was captured), with the same faults:
// outage, latency, errors before anything is recorded, declines, and answers lost after the refund was decided.
// Always synchronous (no callback).
app.MapPost("/v1/refunds", async (HttpContext http) =>
{
    var f = faults;
    if (Refuse(http, f, out var key) is { } refused)
    {
        return refused;
    }

    string paymentKey;
    long amount;
    try
    {
        using var doc = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        paymentKey = doc.RootElement.GetProperty("payment").GetString() ?? "";
        amount = doc.RootElement.GetProperty("amount").GetInt64();
    }
    catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
    {
        return Results.Json(new { error = "body needs payment and amount" }, json, statusCode: 400);
    }

    if (amount <= 0 || paymentKey.Length == 0)
    {
        return Results.Json(new { error = "amount must be positive and payment named" }, json, statusCode: 400);
    }

    await Task.Delay(DrawLatency(f), http.RequestAborted);
    if (ledger.FindRefund(key) is null && Roll() < f.ErrorRate)
    {
        return Results.Json(new { error = "internal_error" }, json, statusCode: 500);
    }

    var (refund, repeat) = ledger.RefundOnce(key, paymentKey, amount, () => Roll() < f.DeclineRate);
    if (!repeat && Roll() < f.TimeoutRate)
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, http.RequestAborted);
    }

    return RefundOutcome(refund);
});

app.MapGet("/v1/refunds/{key}", (string key) => ledger.FindRefund(key) is { } refund ? RefundOutcome(refund) : Results.Json(new { error = "not_found" }, json, statusCode: 404));

app.MapPut("/admin/faults", async (HttpContext http) =>
{
    Faults? next;
    try
    {
        next = await JsonSerializer.DeserializeAsync<Faults>(http.Request.Body, json, http.RequestAborted);
    }
    catch (JsonException e)
    {
        return Results.Json(new { error = e.Message }, json, statusCode: 400);
    }

    if (next is null || next.Validate() is { } problem)
    {
        return Results.Json(new { error = next?.Validate() ?? "body required" }, json, statusCode: 400);
    }

    faults = next;
    return Results.Json(faults, json);
});

app.MapGet("/admin/faults", () => Results.Json(faults, json));

app.MapGet("/admin/ledger", () =>
{
    var all = ledger.All.ToList();
    var refunds = ledger.Refunds.ToList();
    return Results.Json(new
    {
        captures = all.Where(x => x.Status == "captured").OrderBy(x => x.CapturedAt).Select(x => new
        {
            idempotency_key = x.Key, reference = x.Reference, amount = x.Amount, currency = x.Currency, captured_at = x.CapturedAt, duplicates = x.Duplicates, captures = x.Captures,
        }),
        refunds = refunds.OrderBy(x => x.At).Select(x => new
        {
            idempotency_key = x.Key, reference = x.Reference, payment = x.Payment, amount = x.Amount, status = x.Status, failure_code = x.FailureCode,
            refunded_at = x.At, duplicates = x.Duplicates,
        }),
        totals = new
        {
            payments = all.Count,
            captured = all.Count(x => x.Status == "captured"),
            declined = all.Count(x => x.Status == "declined"),
            pending = all.Count(x => x.Status == "pending"),
            duplicates = all.Sum(x => x.Duplicates),
            double_captures = all.Count(x => x.Captures > 1),
            refunds = refunds.Count(x => x.Status == "refunded"),
            refunded = refunds.Where(x => x.Status == "refunded").Sum(x => x.Amount),
            refunds_failed = refunds.Count(x => x.Status == "failed"),
            refund_duplicates = refunds.Sum(x => x.Duplicates),
            over_refunded = all.Count(x => x.Refunded > x.Amount),
        },
    }, json);
});

await app.RunAsync();
return 0;

IResult Outcome(Ledger.Payment payment) => payment.Status == "pending"
    ? Results.Json(new { reference = payment.Reference, status = "pending" }, json, statusCode: 202)
    : Results.Json(new { reference = payment.Reference, status = payment.Status, decline_code = payment.DeclineCode }, json);

// An outage refuses everything; a request without an idempotency key is refused.
IResult? Refuse(HttpContext http, Faults f, out string key)
{
    key = http.Request.Headers["Idempotency-Key"].ToString();
    if (f.Outage)
    {
        return Results.Json(new { error = "outage" }, json, statusCode: 503);
    }

    return key.Length is 0 or > 255 ? Results.Json(new { error = "Idempotency-Key is required" }, json, statusCode: 400) : null;
}

TimeSpan DrawLatency(Faults f)
{
    lock (randomLock)
    {
        return f.DrawLatency(random);
    }
}

IResult RefundOutcome(Ledger.Refund refund) =>
    Results.Json(new { reference = refund.Reference, status = refund.Status, failure_code = refund.FailureCode }, json);

async Task ResolveLaterAsync(Ledger.Payment payment, Faults f)
{
    await Task.Delay(TimeSpan.FromMilliseconds(100 + 400 * Roll()));
    if (Roll() < f.DeclineRate)
    {
        ledger.Decline(payment, "card_declined");
    }
    else
    {
        ledger.Capture(payment);
    }

    if (string.IsNullOrEmpty(callbackUrl))
    {
        return;
    }

    var body = JsonSerializer.Serialize(new { idempotency_key = payment.Key, reference = payment.Reference, status = payment.Status, decline_code = payment.DeclineCode }, json);
    for (var attempt = 0; attempt < 5; attempt++)
    {
        try
        {
            var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var mac = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"))).ToLowerInvariant();
            using var request = new HttpRequestMessage(HttpMethod.Post, callbackUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("Psp-Signature", $"t={t},v1={mac}");
            using var response = await callbacks.CreateClient("callbacks").SendAsync(request);
            if (response.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
        }

        await Task.Delay(TimeSpan.FromSeconds(1 << attempt));
    }
}
