using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace FinCore.Tests.Infrastructure;

/// <summary>A tiny API client for tests: raw requests, JSON responses.</summary>
public sealed record ApiResponse(HttpStatusCode Status, HttpResponseHeaders Headers, string? ContentType, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public int Code => (int)Status;
}

public static class Api
{
    public static async Task<ApiResponse> SendAsync(this HttpClient http, HttpMethod method, string path, string? key,
        string? json = null, IDictionary<string, string>? headers = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }

        using var response = await http.SendAsync(request);
        return new ApiResponse(response.StatusCode, response.Headers, response.Content.Headers.ContentType?.MediaType,
            await response.Content.ReadAsStringAsync());
    }

    public static Task<ApiResponse> PostAsync(this HttpClient http, string path, string? key, string json, string? idempotencyKey = null) =>
        http.SendAsync(HttpMethod.Post, path, key, json, idempotencyKey is null ? null : new Dictionary<string, string> { ["Idempotency-Key"] = idempotencyKey });

    public static Task<ApiResponse> GetAsync(this HttpClient http, string path, string? key) => http.SendAsync(HttpMethod.Get, path, key);

    public static string Charge(long amount = 1999, string currency = "BRL", string? customer = "cus_1", string pm = "pm_card_visa") =>
        JsonSerializer.Serialize(new { amount, currency, payment_method = pm, description = "order 42", customer, metadata = new { order_id = "42" } });
}
