using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FinCore.Gateway.Data;
using FinCore.Gateway.Problems;
using FinCore.Grains;
using FinCore.Cluster;

namespace FinCore.Gateway.Apis;

/// <summary>Callbacks from the PSP (asynchronous results), signed with the shared PSP secret.</summary>
internal static class PspApi
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static void MapPspApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/psp/webhook", CallbackAsync).WithTags("PSP");

    private static async Task<IResult> CallbackAsync(HttpContext http, GatewayOptions options, ReadModel readModel, IGrainFactory grains)
    {
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(http.RequestAborted);
        if (string.IsNullOrEmpty(options.PspSecret) || !Verify(http.Request.Headers["Psp-Signature"].ToString(), body, options.PspSecret))
        {
            return ProblemResults.Result(http, 401, "unauthorized", "Missing or invalid Psp-Signature.");
        }

        string? key, status, reference, declineCode;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            key = root.GetProperty("idempotency_key").GetString();
            status = root.GetProperty("status").GetString();
            reference = root.TryGetProperty("reference", out var r) ? r.GetString() : null;
            declineCode = root.TryGetProperty("decline_code", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ProblemResults.Result(http, 400, "invalid_request", "The callback body is not a PSP result.");
        }

        if (status is not ("captured" or "declined") || !Ids.IsWellFormed(key, "ch_"))
        {
            return ProblemResults.Result(http, 400, "invalid_request", "status must be captured or declined, idempotency_key a charge id.");
        }

        var tenant = await readModel.TenantOfChargeAsync(key!, http.RequestAborted);
        if (tenant is null)
        {
            return ProblemResults.NotFound(http, "charge");
        }

        var grain = grains.Grain<IChargeGrain>(Ids.ChargeKey(tenant, key!));
        var charge = await GrainCallRetry.IdempotentAsync(() => grain.ApplyPspResult(new PspOutcome(status, reference, declineCode), 0), cancellationToken: http.RequestAborted);
        return TypedResults.Json(new { received = true, charge_status = charge.Status }, ApiJson.Options);
    }

    /// <summary><c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "t.body")&gt;</c>, within five minutes.</summary>
    internal static bool Verify(string header, string body, string secret)
    {
        string? t = null, v1 = null;
        foreach (var part in header.Split(','))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2)
            {
                if (kv[0].Trim() == "t")
                {
                    t = kv[1].Trim();
                }
                else if (kv[0].Trim() == "v1")
                {
                    v1 = kv[1].Trim();
                }
            }
        }

        if (t is null || v1 is null || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ||
            (DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(Math.Min(seconds, 253402300799))).Duration() > Tolerance)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        byte[] given;
        try
        {
            given = Convert.FromHexString(v1);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
