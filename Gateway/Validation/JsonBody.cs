using System.Text.Json;
using FinCore.Gateway.Problems;

namespace FinCore.Gateway.Validation;

/// <summary>Reads a JSON request body under the contract's rules: <c>application/json</c> only (415), at most
/// 64 KiB (413), well-formed UTF-8 JSON with an object at the top (400).</summary>
internal static class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>Bodies up to this size are read to the end even when refused, so the client gets its 413 instead of a
    /// connection reset mid-upload. Kestrel refuses anything larger by itself.</summary>
    public const int DrainBytes = 4 * 1024 * 1024;

    public static async Task<(JsonDocument? Document, IResult? Error)> ReadObjectAsync(HttpContext http)
    {
        var contentType = http.Request.ContentType;
        if (contentType is null || !IsJson(contentType))
        {
            return (null, ProblemResults.Result(http, 415, "unsupported_media_type", "Send the body as application/json."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        long total = 0;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            total += read;
            if (total <= MaxBytes)
            {
                buffer.Write(chunk, 0, read);
            }
        }

        if (total > MaxBytes)
        {
            return (null, ProblemResults.Result(http, 413, "payload_too_large", "The request body is larger than 64 KiB."));
        }

        var bytes = buffer.ToArray();
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return (null, ProblemResults.Result(http, 400, "invalid_request", "The body is not valid UTF-8."));
        }

        try
        {
            var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                return (null, ProblemResults.Result(http, 400, "invalid_request", "The body must be a JSON object."));
            }

            return (doc, null);
        }
        catch (JsonException e)
        {
            return (null, ProblemResults.Result(http, 400, "invalid_request", $"The body is not valid JSON: {e.Message}"));
        }
    }

    private static bool IsJson(string contentType)
    {
        var media = contentType.Split(';')[0].Trim();
        if (!media.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var charset = contentType.Split(';').Skip(1).Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("charset=", StringComparison.OrdinalIgnoreCase));
        return charset is null || charset[8..].Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase);
    }
}
