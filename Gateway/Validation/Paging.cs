using System.Globalization;
using FinCore.Gateway.Problems;

namespace FinCore.Gateway.Validation;

internal static class Paging
{
    /// <summary>The list's <c>limit</c> (default 10); false with a 400 problem when it is not an integer from 1 to 100.</summary>
    public static bool TryLimit(HttpContext http, out int limit, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? error)
    {
        limit = 10;
        error = null;
        if (http.Request.Query.TryGetValue("limit", out var l) && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            error = ProblemResults.Invalid(http, "limit", "must be an integer from 1 to 100");
            return false;
        }

        return true;
    }

    /// <summary>The list's <c>starting_after</c> (null when absent); false with a 400 problem when it is not a
    /// well-formed id of <paramref name="prefix"/>.</summary>
    public static bool TryStartingAfter(HttpContext http, string prefix, string what, out string? id,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? error)
    {
        id = http.Request.Query["starting_after"];
        error = id is not null && !Grains.Ids.IsWellFormed(id, prefix) ? ProblemResults.Invalid(http, "starting_after", $"must be a {what} id") : null;
        return error is null;
    }

    /// <summary>A page as a list, or the 400 problem when <c>starting_after</c> named nothing of the caller's (no page).</summary>
    public static IResult List<T>(HttpContext http, Data.LedgerReadModel.Page<T>? page, string what) => page is null
        ? ProblemResults.Invalid(http, "starting_after", $"names no {what} of yours")
        : TypedResults.Json(new { @object = "list", data = page.Data, has_more = page.HasMore }, Grains.ApiJson.Options);
}
