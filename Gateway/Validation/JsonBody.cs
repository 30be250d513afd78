using System.Buffers;
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

        var bytes = await ReadAsync(http.Request, http.RequestAborted);
        if (bytes is null)
        {
            return (null, ProblemResults.Result(http, 413, "payload_too_large", "The request body is larger than 64 KiB."));
        }

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

            if (!StringsAreUnicode(doc.RootElement))
            {
                doc.Dispose();
                return (null, ProblemResults.Result(http, 400, "invalid_request",
                    "The body has a string that is not valid Unicode (an unpaired surrogate escape such as \\ud800)."));
            }

            return (doc, null);
        }
        catch (JsonException e)
        {
            return (null, ProblemResults.Result(http, 400, "invalid_request", $"The body is not valid JSON: {e.Message}"));
        }
    }

    /// <summary>JSON lets a string escape half of a UTF-16 surrogate pair ("\ud800"), which is no character at all and
    /// fails only when the string is read; every name and string is checked here, so such a body is refused whole.</summary>
    private static bool StringsAreUnicode(JsonElement element)
    {
        try
        {
            return Check(element);
        }
        catch (InvalidOperationException)
        {
            return false; // "Cannot transcode invalid UTF-16 string to UTF-8"
        }

        static bool Check(JsonElement e)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    _ = e.GetString();
                    return true;
                case JsonValueKind.Object:
                    foreach (var property in e.EnumerateObject())
                    {
                        _ = property.Name;
                        if (!Check(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray())
                    {
                        if (!Check(item))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
    }

    /// <summary>The body, or null when it is larger than <see cref="MaxBytes"/> (read to the end all the same). With a
    /// Content-Length in bounds (the usual case) the body goes straight into one array of its size; otherwise it is
    /// read in pooled chunks.</summary>
    private static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        int read;
        if (request.ContentLength is { } length and <= MaxBytes)
        {
            var body = new byte[length];
            var filled = 0;
            while (filled < body.Length && (read = await request.Body.ReadAsync(body.AsMemory(filled), ct)) > 0)
            {
                filled += read;
            }

            return filled == body.Length ? body : body[..filled];
        }

        var chunk = ArrayPool<byte>.Shared.Rent(16384);
        try
        {
            using var buffer = new MemoryStream();
            long total = 0;
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                total += read;
                if (total <= MaxBytes)
                {
                    buffer.Write(chunk, 0, read);
                }
            }

            return total > MaxBytes ? null : buffer.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
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
