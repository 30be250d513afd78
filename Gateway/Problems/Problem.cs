using System.Text.Json.Serialization;

namespace FinCore.Gateway.Problems;

/// <summary>An RFC 9457 problem as API.md specifies it.</summary>
internal sealed record Problem(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("errors"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Errors,
    [property: JsonPropertyName("request_id")] string RequestId);

/// <summary>Writes problem responses; every error of the gateway goes through here.</summary>
internal static class ProblemResults
{
    public const string ContentType = "application/problem+json";

    private static readonly Dictionary<string, string> Titles = new()
    {
        ["invalid_request"] = "Invalid request",
        ["unauthorized"] = "Unauthorized",
        ["forbidden"] = "Forbidden",
        ["not_found"] = "Not found",
        ["method_not_allowed"] = "Method not allowed",
        ["invalid_state"] = "Invalid state",
        ["idempotency_key_in_use"] = "Idempotency key in use",
        ["payload_too_large"] = "Payload too large",
        ["unsupported_media_type"] = "Unsupported media type",
        ["idempotency_key_mismatch"] = "Idempotency key mismatch",
        ["insufficient_funds"] = "Insufficient funds",
        ["rate_limited"] = "Rate limited",
        ["unavailable"] = "Service unavailable",
        ["internal_error"] = "Internal error",
    };

    public static IResult Result(HttpContext http, int status, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        TypedResults.Json(Create(http, status, code, detail, errors), statusCode: status, contentType: ContentType);

    public static Problem Create(HttpContext http, int status, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new("urn:fincore:problem:" + code, Titles.GetValueOrDefault(code, code), status, code, detail, errors, RequestIds.Get(http));

    public static Task WriteAsync(HttpContext http, int status, string code, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(Create(http, status, code, detail, errors), (System.Text.Json.JsonSerializerOptions?)null, ContentType);
    }

    public static IResult Invalid(HttpContext http, string field, string message) =>
        Result(http, 400, "invalid_request", $"{field} {message}", new Dictionary<string, string[]> { [field] = [message] });

    public static IResult NotFound(HttpContext http, string what = "resource") => Result(http, 404, "not_found", $"No such {what}.");
}
