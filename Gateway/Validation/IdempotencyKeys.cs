using FinCore.Gateway.Problems;

namespace FinCore.Gateway.Validation;

internal static class IdempotencyKeys
{
    /// <summary>The request's <c>Idempotency-Key</c> (null when it sends none); false with a 400 problem when it is not
    /// one value of 1 to 255 printable ASCII characters.</summary>
    public static bool TryRead(HttpContext http, out string? key, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? error)
    {
        key = null;
        error = null;
        if (!http.Request.Headers.TryGetValue("Idempotency-Key", out var keys))
        {
            return true;
        }

        key = keys.Count == 1 ? keys[0] : null;
        if (key is null || key.Length is 0 or > 255 || key.Any(c => c is < ' ' or > '~'))
        {
            error = ProblemResults.Invalid(http, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
            return false;
        }

        return true;
    }

    /// <summary>Sets what a replayed create answers beside its first response.</summary>
    public static void MarkReplayed(HttpContext http, bool replayed, string? key)
    {
        if (replayed && key is not null)
        {
            http.Response.Headers["Idempotent-Replayed"] = "true";
        }
    }
}
