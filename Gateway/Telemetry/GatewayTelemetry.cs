using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FinCore.Gateway.Telemetry;

/// <summary>
/// The gateway's spans (<see cref="ActivitySource"/> "FinCore.Gateway": one server span per request, continuing an
/// incoming W3C <c>traceparent</c>) and HTTP instruments (<see cref="Meter"/> "FinCore.Gateway": requests and
/// latency by route, method and status).
/// </summary>
internal static class GatewayTelemetry
{
    public static readonly ActivitySource Source = new("FinCore.Gateway");
    public static readonly Meter Meter = new("FinCore.Gateway");
    public const string DurationInstrument = "fincore.http.server.duration";

    private static readonly Counter<long> Requests = Meter.CreateCounter<long>("fincore.http.server.requests", description: "HTTP requests by route, method and status");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(DurationInstrument, "ms", "HTTP request latency by route, method and status");

    /// <summary>Outermost middleware: sees the final status, including problem responses written by the exception handler.</summary>
    public static IApplicationBuilder UseHttpTelemetry(this IApplicationBuilder app)
    {
        var stats = app.ApplicationServices.GetRequiredService<Dashboard.RequestStats>();
        return app.Use(async (http, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var method = http.Request.Method;
            Activity? span = null;
            if (Source.HasListeners())
            {
                // ASP.NET's own hosting activity is not exported; our span continues the caller's trace (or starts one).
                var parent = http.Request.Headers.TryGetValue("traceparent", out var tp) ? tp.ToString() : null;
                Activity.Current = null;
                span = Source.StartActivity("HTTP " + method, ActivityKind.Server, parent);
            }

            try
            {
                await next(http);
            }
            finally
            {
                var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                if (route.Length > 1 && route[^1] == '/')
                {
                    route = route[..^1]; // a group's root ("/v1/charges" + "/")
                }

                var status = http.Response.StatusCode;
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var tags = new TagList
                {
                    { "route", route },
                    { "method", method },
                    { "status", status },
                };
                Requests.Add(1, tags);
                Duration.Record(ms, tags);
                stats.Record(route, status, ms);
                if (span is not null)
                {
                    span.DisplayName = $"{method} {route}";
                    span.SetTag("http.request.method", method);
                    span.SetTag("http.route", route);
                    span.SetTag("http.response.status_code", status);
                    if (status >= 500)
                    {
                        span.SetStatus(ActivityStatusCode.Error);
                    }

                    span.Dispose();
                }
            }
        });
    }
}
