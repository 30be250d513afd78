using System.Diagnostics;
using System.Threading.Channels;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Engine;

/// <summary>
/// The open-model engine. A scheduler thread emits each arrival at its intended time from the plan, whatever the
/// server is doing; workers (one per allowed request in flight) send them in order. Latency is measured from the
/// intended time (so a stalled server shows up in the percentiles, as with wrk2), service time from the actual
/// send. An arrival still unsent <see cref="RunSettings.DropAfter"/> after its intended time is dropped and counted.
/// </summary>
internal sealed partial class LoadEngine
{
    private const int SlotCount = 8;
    private static readonly long LateTicks = Clock.FromSpan(TimeSpan.FromMilliseconds(10));

    private readonly RunSettings settings;
    private readonly FinCoreApi api;
    private readonly Action<string> log;
    private readonly List<Segment> segments = [];
    private readonly Totals[] slots = new Totals[SlotCount];
    private readonly Channel<Arrival> arrivals = Channel.CreateUnbounded<Arrival>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly CancellationTokenSource stopScheduling = new();
    private readonly Func<Segment, Totals, string?>? phaseGate;
    private CompletionTracker? tracker;
    private AcceptedLog? acceptedLog;
    private LatencyDump? latencyDump;
    private long t0;
    private volatile int currentSegment = -1;
    private volatile bool endPhaseRequested;
    private long backlog;
    private long lastCompletion;
    private string? aborted;

    /// <summary>An engine for one run; <paramref name="phaseGate"/> is called when a phase ends with its figures, and a non-null answer (the reason) stops the run.</summary>
    public LoadEngine(RunSettings settings, FinCoreApi api, Action<string> log, Func<Segment, Totals, string?>? phaseGate = null)
    {
        this.settings = settings;
        this.api = api;
        this.log = log;
        this.phaseGate = phaseGate;
        for (var i = 0; i < SlotCount; i++)
        {
            slots[i] = new Totals();
        }

        foreach (var (phase, measured) in SegmentsOf(settings))
        {
            segments.Add(new Segment(phase, measured));
        }
    }

    /// <summary>The phases a run goes through: the warm-up (not measured) at the first phase's rate, then the plan's.</summary>
    public static IReadOnlyList<(Phase Phase, bool Measured)> SegmentsOf(RunSettings settings)
    {
        var list = new List<(Phase, bool)>();
        if (settings.Warmup > TimeSpan.Zero)
        {
            var first = settings.Plan.Phases.FirstOrDefault(p => p.Kind != PhaseKind.Pause);
            var rate = first?.Rate > 0 ? first.Rate : first?.EndRate ?? 0;
            list.Add((Phase.Constant("warmup", Math.Max(1, rate), settings.Warmup), false));
        }

        foreach (var p in settings.Plan.Phases)
        {
            list.Add((p, true));
        }

        return list;
    }

    /// <summary>Where progress is shown while running (null: nowhere).</summary>
    public Live.IProgressView? Progress { get; set; }

    /// <summary>Called as each second's figures are final (second, its row, its slot), before the slot is reused.</summary>
    public Action<int, Reports.TimelineRow, Totals>? SecondFinalized { get; set; }

    /// <summary>Whole-run figures, warmup excluded.</summary>
    public Totals Measured { get; } = new();

    public IReadOnlyList<Segment> Segments => segments;

    public string? Aborted => aborted;

    public long StartTimestamp => t0;

    /// <summary>When the last response arrived: throughput counts up to here, not just to the plan's end.</summary>
    public long LastCompletion => Interlocked.Read(ref lastCompletion);

    /// <summary>Why scheduling stopped before the plan's end, if it did.</summary>
    public string? StopReason { get; private set; }

    /// <summary>
    /// Stops scheduling new arrivals (what was sent still completes); the run then ends normally.
    /// An abort (a failed threshold, an interrupt) fails the run; a finish (a stress step past the SLOs) does not.
    /// </summary>
    public void Stop(string reason, bool abort = true)
    {
        StopReason ??= reason;
        if (abort)
        {
            aborted ??= reason;
        }

        stopScheduling.Cancel();
    }

    public async Task<RunTimeline> RunAsync(CancellationToken hardStop)
    {
        t0 = Clock.Now;
        var timeline = new RunTimeline(this, settings);
        using var accepted = settings.RecordAccepted is { } path ? new AcceptedLog(path) : null;
        acceptedLog = accepted;
        using var dump = settings.DumpLatencies is { } dumpPath ? new LatencyDump(dumpPath) : null;
        latencyDump = dump;
        if (settings.TrackCompletion)
        {
            tracker = new CompletionTracker(api, settings, this);
            tracker.Start(hardStop);
        }

        using var timeouts = new TimeoutTokens(settings.RequestTimeout, hardStop);
        var workers = new Task[settings.Concurrency];
        for (var w = 0; w < workers.Length; w++)
        {
            var index = w;
            workers[w] = Task.Run(() => WorkerAsync(index, timeouts, hardStop), hardStop);
        }

        var scheduler = new Thread(Schedule) { IsBackground = true, Name = "loadgen-scheduler", Priority = ThreadPriority.AboveNormal };
        scheduler.Start();
        using var ticker = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var schedulerDone = new TaskCompletionSource();
        _ = Task.Run(() =>
        {
            scheduler.Join();
            schedulerDone.TrySetResult();
        }, CancellationToken.None);

        var workersDone = Task.WhenAll(workers);
        while (!workersDone.IsCompleted)
        {
            await Task.WhenAny(workersDone, ticker.WaitForNextTickAsync(hardStop).AsTask()).ConfigureAwait(false);
            timeline.Tick(final: false);
            CheckAbort();
        }

        await workersDone.ConfigureAwait(false);
        await schedulerDone.Task.ConfigureAwait(false);
        if (tracker is not null)
        {
            await tracker.DrainAsync(tick: () => timeline.Tick(final: false), hardStop).ConfigureAwait(false);
        }

        timeline.Tick(final: true);
        return timeline;
    }

    internal Totals SlotAt(long timestamp) => slots[SecondOf(timestamp) % SlotCount];

    internal Totals SlotOfSecond(int second) => slots[second % SlotCount];

    internal int SecondOf(long timestamp) => (int)Math.Max(0, (timestamp - t0) / Stopwatch.Frequency);

    internal int CurrentSegmentIndex => currentSegment;

    internal long Backlog => Interlocked.Read(ref backlog);

    /// <summary>Asks the scheduler to end the current phase now (its "until" condition was met).</summary>
    internal void EndCurrentPhase(string reason)
    {
        var i = currentSegment;
        if (i >= 0 && i < segments.Count && segments[i].EndedBy is null)
        {
            segments[i].EndedBy = reason;
            endPhaseRequested = true;
        }
    }

    internal void RecordCompletion(long micros, string finalStatus, long observedAt)
    {
        var segment = segments[Math.Clamp(currentSegment, 0, segments.Count - 1)];
        SlotAt(observedAt).Completion.Record(micros);
        Measured.Completion.Record(micros);
        Measured.FinalStatuses.AddOrUpdate(finalStatus, 1, (_, c) => c + 1);
        segment.Totals.Completion.Record(micros);
    }

    private void Schedule()
    {
        var token = stopScheduling.Token;
        var start = t0;
        try
        {
            for (var s = 0; s < segments.Count && !token.IsCancellationRequested; s++)
            {
                var segment = segments[s];
                segment.StartTimestamp = start;
                endPhaseRequested = false;
                currentSegment = s;
                var phase = segment.Phase;
                var end = start + Clock.FromSpan(phase.Duration);
                long n = settings.ShareIndex;
                var next = phase.ArrivalTime(n);
                while (!token.IsCancellationRequested && !endPhaseRequested)
                {
                    var now = Clock.Now;
                    while (next is { } at && start + Clock.FromSpan(at) <= now)
                    {
                        Emit(start + Clock.FromSpan(at), s, segment);
                        n += settings.ShareCount;
                        next = phase.ArrivalTime(n);
                    }

                    if (now >= end)
                    {
                        break;
                    }

                    // Arrivals are emitted within ~1 ms of their intended time; latency is measured from the
                    // intended time, so the jitter never flatters the figures.
                    Thread.Sleep(1);
                }

                segment.EndTimestamp = endPhaseRequested || token.IsCancellationRequested ? Clock.Now : end;
                var gate = segment.Measured ? phaseGate?.Invoke(segment, segment.Totals) : null;
                if (gate is not null)
                {
                    Stop(gate, abort: false);
                }

                start = segment.EndTimestamp;
                if (endPhaseRequested)
                {
                    // An "until" condition ends the run at the breaking point.
                    break;
                }
            }
        }
        finally
        {
            currentSegment = segments.Count - 1;
            arrivals.Writer.TryComplete();
        }
    }

    private void Emit(long intended, int segmentIndex, Segment segment)
    {
        Interlocked.Increment(ref backlog);
        arrivals.Writer.TryWrite(new Arrival(intended, segmentIndex));
        Interlocked.Increment(ref SlotAt(intended).Scheduled);
        Interlocked.Increment(ref segment.Totals.Scheduled);
        if (segment.Measured)
        {
            Interlocked.Increment(ref Measured.Scheduled);
        }
    }

    private async Task WorkerAsync(int worker, TimeoutTokens timeouts, CancellationToken hardStop)
    {
        var reader = arrivals.Reader;
        var dropAfter = Clock.FromSpan(settings.DropAfter);
        while (await reader.WaitToReadAsync(hardStop).ConfigureAwait(false))
        {
            while (reader.TryRead(out var arrival))
            {
                Interlocked.Decrement(ref backlog);
                var segment = segments[arrival.Segment];
                var sentAt = Clock.Now;
                var wait = sentAt - arrival.Intended;
                if (wait > dropAfter)
                {
                    Count(ref SlotAt(sentAt).Dropped, ref segment.Totals.Dropped, ref Measured.Dropped, segment.Measured);
                    continue;
                }

                var slot = SlotAt(sentAt);
                Count(ref slot.Sent, ref segment.Totals.Sent, ref Measured.Sent, segment.Measured);
                if (wait > LateTicks)
                {
                    Count(ref slot.Late, ref segment.Totals.Late, ref Measured.Late, segment.Measured);
                }

                Outcome outcome;
                try
                {
                    outcome = await api.ExecuteAsync(worker, settings.Mix.Next(), timeouts.Current, hardStop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
                {
                    return;
                }

                var done = Clock.Now;
                Atomic.Max(ref lastCompletion, done);
                Record(segment, arrival.Intended, sentAt, done, outcome);
                if (outcome.Accepted is { } accepted)
                {
                    acceptedLog?.Add(accepted);
                    if (tracker is not null && segment.Measured && accepted.Tracked)
                    {
                        Interlocked.Increment(ref Measured.Accepted);
                        tracker.Add(accepted);
                    }
                }
            }
        }
    }

    private void Record(Segment segment, long intended, long sent, long done, Outcome outcome)
    {
        var latency = Clock.Micros(done - intended);
        var service = Clock.Micros(done - sent);
        var slot = SlotAt(done);
        slot.Latency.Record(latency);
        slot.Service.Record(service);
        slot.Statuses.Add(outcome.Code, outcome.Status);
        Count(ref slot.Completed, ref segment.Totals.Completed, ref Measured.Completed, segment.Measured);
        if (outcome.IsError)
        {
            Count(ref slot.Errors, ref segment.Totals.Errors, ref Measured.Errors, segment.Measured);
        }

        segment.Totals.Latency.Record(latency);
        segment.Totals.Service.Record(service);
        segment.Totals.Statuses.Add(outcome.Code, outcome.Status);
        if (segment.Measured)
        {
            Measured.Latency.Record(latency);
            Measured.Service.Record(service);
            Measured.Statuses.Add(outcome.Code, outcome.Status);
            latencyDump?.Add(latency);
        }
    }


    private static void Count(ref long slot, ref long phase, ref long measured, bool isMeasured)
    {
        Interlocked.Increment(ref slot);
        Interlocked.Increment(ref phase);
        if (isMeasured)
        {
            Interlocked.Increment(ref measured);
        }
    }

    private void CheckAbort()
    {
        if (!settings.AbortOnFail || aborted is not null || stopScheduling.IsCancellationRequested)
        {
            return;
        }

        var measuredStart = segments.FirstOrDefault(s => s.Measured)?.StartTimestamp ?? -1;
        if (measuredStart < 0 || Clock.Now - measuredStart < Clock.FromSpan(settings.AbortGrace))
        {
            return;
        }

        foreach (var t in settings.Thresholds)
        {
            // Figures that only mean something at the end are judged at the end.
            if (t.Metric is "rps" or "incomplete" || t.Metric.StartsWith("completion_", StringComparison.Ordinal))
            {
                continue;
            }

            var actual = Measured.Metric(t.Metric, Clock.Seconds(Clock.Now - measuredStart));
            if (!t.Holds(actual))
            {
                Stop($"threshold {t.Expression} failed ({t.Format(actual)}) after {Clock.Seconds(Clock.Now - measuredStart):0}s; abort-on-fail");
                log(Aborted!);
                return;
            }
        }
    }

    private readonly record struct Arrival(long Intended, int Segment);
}
