using System.Text.Json.Serialization;

namespace FinCore.LoadGen.Reports;

/// <summary>Everything a run found, as written to report.json (snake_case) and read by report.html.</summary>
public sealed record RunReport
{
    public string Tool { get; init; } = "FinCore LoadGen";

    public required string Command { get; init; }

    public required string Target { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required double DurationS { get; init; }

    public required string Mix { get; init; }

    public required string PlanSource { get; init; }

    public required int Connections { get; init; }

    public required int Concurrency { get; init; }

    public required string HttpVersion { get; init; }

    public required double WarmupS { get; init; }

    public required Counts Totals { get; init; }

    public required Percentiles Latency { get; init; }

    public required Percentiles ServiceTime { get; init; }

    public Completion? Completion { get; init; }

    public WebhookFigures? Webhooks { get; init; }

    public PushFigures? Push { get; init; }

    public MailFigures? Mail { get; init; }

    public required IReadOnlyDictionary<string, long> StatusCodes { get; init; }

    public required Generator Generator { get; init; }

    public required IReadOnlyList<PhaseResult> Phases { get; init; }

    public required IReadOnlyList<ThresholdResult> Thresholds { get; init; }

    public required bool Passed { get; init; }

    public string? Aborted { get; init; }

    public Breaking? BreakingPoint { get; init; }

    public required IReadOnlyList<TimelineRow> Timeline { get; init; }

    public required IReadOnlyList<HistogramBucket> LatencyDistribution { get; init; }

    /// <summary>A coordinated run (<c>--agents</c>): each agent's share; absent from a single generator's report.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Distributed? Distributed { get; init; }
}

/// <summary>
/// A run driven by agents under this coordinator: per agent, its figures and clock offset; the agents lost (died or
/// stopped answering) by name; the coordinator's own CPU, absolute and as a share of the agents'.
/// </summary>
public sealed record Distributed(IReadOnlyList<AgentFigures> Agents, IReadOnlyList<string> Lost, bool LossTolerated, double CoordinatorCpuS, double CoordinatorCpuPctOfAgents);

/// <summary>One agent's share: what it scheduled, sent, dropped and sent late, its CPU (avg % of its machine, seconds) and clock offset.</summary>
public sealed record AgentFigures(string Agent, string State, long Scheduled, long Sent, long Dropped, long Late, double CpuAvgPct, double CpuS, double ClockOffsetMs, string? Lost);

/// <summary>Scheduled = arrivals the plan called for; sent; completed (a response or a transport error); dropped = never sent.</summary>
public sealed record Counts(long Scheduled, long Sent, long Completed, long Ok, long Errors, long Dropped, long Late, double Throughput, double ErrorRate, double DroppedRate);

/// <summary>Latency figures in milliseconds.</summary>
public sealed record Percentiles(long Count, double Min, double Mean, double P50, double P75, double P90, double P95, double P99, double P999, double Max);

/// <summary>202 → terminal status, from the charge's own created_at/updated_at.</summary>
/// <summary><see cref="Requests"/>: what tracking itself asked of the target (list pages, charges read by id).</summary>
public sealed record Completion(long Accepted, long Terminal, long Incomplete, IReadOnlyDictionary<string, long> FinalStatuses, Percentiles Latency, TrackingRequests Requests);

public sealed record TrackingRequests(long List, long Get);

/// <summary>What the webhook sink (<c>--webhook-sink</c>) received: deliveries, distinct events, repeats, bad
/// signatures, the seconds it waited after the run for deliveries to stop, and each event's lag (arrival − created_at).</summary>
public sealed record WebhookFigures(long Received, long Events, long Duplicates, long BadSignatures, double SettleS, Percentiles Lag);

/// <summary>What the customers' notification streams (<c>--push-streams</c>) received: how many streams, the
/// notifications expected (two per transfer answered 201, when every customer had a stream), arrivals, distinct
/// notifications, repeats, reconnects, the seconds waited after the run, and each one's lag (arrival − occurred_at).</summary>
public sealed record PushFigures(int Streams, long? Expected, long Received, long Notifications, long Duplicates, long Reconnects, double SettleS, Percentiles Lag);

/// <summary>What the mail sink (<c>--mail-sink</c>) accepted: the emails expected (two per transfer answered 201),
/// arrivals, distinct notifications, repeats, the seconds waited after the run, and each one's lag (accepted −
/// occurred_at).</summary>
public sealed record MailFigures(long? Expected, long Received, long Emails, long Duplicates, double SettleS, Percentiles Lag);

/// <summary>The generator's own load, so a saturated generator is never mistaken for a saturated server.</summary>
public sealed record Generator(int Cores, double CpuAvgPct, double CpuMaxPct, double CpuUsPerRequest, double PeakWorkingSetMb, double PeakBacklog);

public sealed record PhaseResult(string Name, string Description, bool Measured, double StartS, double EndS, double TargetRate, double AchievedRate, Counts Totals, Percentiles Latency, string? EndedBy);

public sealed record ThresholdResult(string Expression, string Actual, bool Passed);

/// <summary>Stress and "until" phases: the highest rate at which the SLOs held, and where they broke.</summary>
public sealed record Breaking(double HighestPassingRate, double? BrokenAtRate, string Reason);

public sealed record TimelineRow(
    int T,
    string Phase,
    bool Warmup,
    double TargetRate,
    long Scheduled,
    long Sent,
    long Completed,
    long Errors,
    long Dropped,
    long Late,
    double P50,
    double P90,
    double P99,
    double Max,
    double ServiceP50,
    double ServiceP99,
    long Completions,
    double CompletionP50,
    double CompletionP99,
    double CpuPct,
    double WorkingSetMb,
    long Backlog,
    IReadOnlyDictionary<string, long> Statuses);

public sealed record HistogramBucket(double Ms, long Count);
