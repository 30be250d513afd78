using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FinCore.Telemetry;

/// <summary>FinCore's tracing (and OTLP metrics), the same in every process.</summary>
public static class TelemetryExtensions
{
    /// <summary>
    /// Traces every "FinCore.*" source and Orleans' grain calls, and meters every "FinCore.*" meter when an exporter is configured:
    /// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the standard OTEL_* variables),
    /// and/or a JSON-lines span file when <c>FINCORE_TRACE_FILE</c> is set. With neither, nothing is attached
    /// and spans cost nothing. The providers are singletons, flushed and disposed with the host.
    /// </summary>
    public static IServiceCollection AddFinCoreTelemetry(this IServiceCollection services, IConfiguration config, string serviceName)
    {
        var otlp = config["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var traceFile = config["FINCORE_TRACE_FILE"];
        var resource = ResourceBuilder.CreateDefault().AddService(config["OTEL_SERVICE_NAME"] ?? serviceName, serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}");
        if (!string.IsNullOrWhiteSpace(otlp) || !string.IsNullOrWhiteSpace(traceFile))
        {
            var tracing = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource("FinCore.*")
                // Orleans' spans of grain calls (client and server side) link a request's spans across processes.
                .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()));
            if (!string.IsNullOrWhiteSpace(otlp))
            {
                tracing.AddOtlpExporter();
            }

            if (!string.IsNullOrWhiteSpace(traceFile))
            {
                tracing.AddProcessor(new SimpleActivityExportProcessor(new JsonLinesSpanExporter(traceFile, serviceName)));
            }

            var tracer = tracing.Build();
            services.AddSingleton(_ => tracer); // built now (listening from the start), disposed (flushed) with the container
        }

        if (!string.IsNullOrWhiteSpace(otlp))
        {
            var meters = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter("FinCore.*", "System.Runtime")
                .AddOtlpExporter()
                .Build();
            services.AddSingleton(_ => meters);
        }

        return services;
    }
}
