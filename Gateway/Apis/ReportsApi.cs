using FinCore.Gateway.Problems;
using System.Globalization;
using FinCore.Gateway.Auth;
using FinCore.Gateway.Data;
using FinCore.Grains;

namespace FinCore.Gateway.Apis;

internal static class ReportsApi
{
    private const int MaxDays = 366;

    public static RouteGroupBuilder MapReportsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/reports").RequireTenant().WithTags("Reports");
        api.MapGet("/summary", SummaryAsync);
        api.MapGet("/statement", StatementAsync);
        return api;
    }

    /// <summary>Counts and amounts of charges per status and per day (UTC) for <c>from</c> (inclusive) to <c>to</c>
    /// (exclusive), and the same for transfers and refunds.</summary>
    private static async Task<IResult> SummaryAsync(HttpContext http, ReadModel readModel)
    {
        if (Range(http, out var from, out var to) is { } error)
        {
            return error;
        }

        var tenant = http.Tenant().TenantId;
        var rows = await readModel.SummaryAsync(tenant, from, to, http.RequestAborted);
        var movements = await readModel.MoneyMovementAsync(tenant, from, to, http.RequestAborted);
        var (transfers, refunds) = (movements.Where(m => m.Kind == "transfers").Select(m => m.Row).ToList(), movements.Where(m => m.Kind == "refunds").Select(m => m.Row).ToList());
        return TypedResults.Json(new
        {
            @object = "report.summary",
            from = DateOnly.FromDateTime(from).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            to = DateOnly.FromDateTime(to).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            currency = http.Tenant().Currency,
            by_status = ByStatus(rows),
            by_day = ByDay(rows),
            transfers = new { count = transfers.Sum(r => r.Count), amount = transfers.Sum(r => r.Amount), by_status = ByStatus(transfers), by_day = ByDay(transfers) },
            refunds = new { count = refunds.Sum(r => r.Count), amount = refunds.Sum(r => r.Amount), by_status = ByStatus(refunds), by_day = ByDay(refunds) },
        }, ApiJson.Options);
    }

    private static IEnumerable<object> ByStatus(List<ReadModel.SummaryRow> rows) =>
        rows.GroupBy(r => r.Status).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new { status = g.Key, count = g.Sum(r => r.Count), amount = g.Sum(r => r.Amount) });

    private static IEnumerable<object> ByDay(List<ReadModel.SummaryRow> rows) =>
        rows.GroupBy(r => r.Day).OrderBy(g => g.Key).Select(g => new
        {
            date = g.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            count = g.Sum(r => r.Count),
            amount = g.Sum(r => r.Amount),
            by_status = g.ToDictionary(r => r.Status, r => new { count = r.Count, amount = r.Amount }),
        });

    /// <summary>One CSV line per charge created in the range.</summary>
    private static async Task<IResult> StatementAsync(HttpContext http, ReadModel readModel)
    {
        if (Range(http, out var from, out var to) is { } error)
        {
            return error;
        }

        var tenant = http.Tenant().TenantId;
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"statement-{tenant}-{from:yyyyMMdd}-{to:yyyyMMdd}.csv\"";
        await readModel.WriteStatementAsync(tenant, from, to, http.Response.Body, http.RequestAborted);
        return Results.Empty;
    }

    /// <summary>The report's <c>from</c> and <c>to</c> dates (UTC days, to exclusive, at most a year apart); a 400 problem otherwise.</summary>
    internal static IResult? Range(HttpContext http, out DateTime from, out DateTime to)
    {
        from = to = default;
        var q = http.Request.Query;
        foreach (var name in new[] { "from", "to" })
        {
            if (!DateOnly.TryParseExact(q[name], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            {
                return ProblemResults.Invalid(http, name, "must be a date (YYYY-MM-DD)");
            }

            var t = d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            if (name == "from")
            {
                from = t;
            }
            else
            {
                to = t;
            }
        }

        if (to <= from || (to - from).TotalDays > MaxDays)
        {
            return ProblemResults.Invalid(http, "to", $"must be after from, at most {MaxDays} days later");
        }

        return null;
    }
}
