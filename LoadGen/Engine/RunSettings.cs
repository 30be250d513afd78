using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Thresholds;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Engine;

/// <summary>Everything one run needs, already validated.</summary>
public sealed record RunSettings
{
    public required Uri Target { get; init; }

    public string? ApiKey { get; init; }

    public string? AdminToken { get; init; }

    public int Tenants { get; init; } = 20;

    public required string OutDir { get; init; }

    public required LoadPlan Plan { get; init; }

    public string PlanSource { get; init; } = "rate";

    public TimeSpan Warmup { get; init; }

    public required Mix Mix { get; init; }

    public int Connections { get; init; } = 64;

    /// <summary>Requests in flight at most; HTTP/1.1 keeps one per connection, HTTP/2 multiplexes.</summary>
    public int Concurrency { get; init; } = 64;

    public bool Http2 { get; init; }

    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    public bool AbortOnFail { get; init; }

    /// <summary>Measured time before abort-on-fail may stop a run (early percentiles are noise).</summary>
    public TimeSpan AbortGrace { get; init; } = TimeSpan.FromSeconds(5);

    public bool TrackCompletion { get; init; }

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan CompletionTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Serve the tenants' webhooks in LoadGen (on this address) and report their delivery lag; null: off.</summary>
    public string? WebhookSink { get; init; }

    /// <summary>The sink answers each delivery after this long (a receiver's own work).</summary>
    public TimeSpan WebhookLatency { get; init; }

    /// <summary>Be the SMTP server the silos send to on this <c>host:port</c> and report email lag; null: off.</summary>
    public string? MailSink { get; init; }

    /// <summary>Customers' notification streams held open during the run, their push lag reported; 0: none.</summary>
    public int PushStreams { get; init; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A request not sent this long after its intended time is dropped (and counted), bounding the backlog.</summary>
    public TimeSpan DropAfter { get; init; } = TimeSpan.FromSeconds(5);

    public string PingPath { get; init; } = "/health/live";

    /// <summary>With transfers in the mix: accounts per tenant to pay from, each funded before the run.</summary>
    public int Accounts { get; init; } = 100;

    /// <summary>With transfers in the mix: the share of them paid to the tenant's one merchant account (a hot account).</summary>
    public double HotShare { get; init; } = 0.2;

    /// <summary>Appends "tenant_id,charge_id" for every 202 here (for invariant checkers: what was acknowledged).</summary>
    public string? RecordAccepted { get; init; }

    public bool Quiet { get; init; }

    /// <summary>Push the run's metrics with OpenTelemetry (OTLP) to this endpoint while running; null: off.</summary>
    public Uri? Otlp { get; init; }

    /// <summary>OTLP over gRPC instead of http/protobuf.</summary>
    public bool OtlpGrpc { get; init; }

    /// <summary>An agent's share of the plan: it sends arrivals <see cref="ShareIndex"/>, +<see cref="ShareCount"/>, … of
    /// every phase, so N agents together send exactly the plan's arrivals, each at the plan's times.</summary>
    public int ShareIndex { get; init; }

    /// <summary>False on an agent: "until" is judged by its coordinator on every agent's figures.</summary>
    public bool JudgeUntil { get; init; } = true;

    public int ShareCount { get; init; } = 1;

    /// <summary>Test-only: every measured latency (µs, little-endian int64) is appended to this file.</summary>
    public string? DumpLatencies { get; init; }

    public string Command { get; init; } = "run";
}
