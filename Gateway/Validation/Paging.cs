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
}
