using System.Diagnostics;

namespace FinCore.Gateway.Problems;

/// <summary>Every response carries <c>Request-Id</c>: the trace id of the request when tracing is on, else a fresh one.</summary>
internal static class RequestIds
{
    private const string Key = "fincore.request_id";

    public static string Get(HttpContext http)
    {
        if (http.Items.TryGetValue(Key, out var id) && id is string s)
        {
            return s;
        }

        var created = Activity.Current?.TraceId.ToHexString() ?? ActivityTraceId.CreateRandom().ToHexString();
        http.Items[Key] = created;
        return created;
    }

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        var id = Get(http);
        http.Response.OnStarting(() =>
        {
            http.Response.Headers["Request-Id"] = id;
            return Task.CompletedTask;
        });
        return next(http);
    });
}
