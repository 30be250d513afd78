using System.Diagnostics;
using System.Runtime.InteropServices;
using FinCore.LoadGen.Cli;
using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Live;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Reports;

namespace FinCore.LoadGen.Agents;

/// <summary>
/// <c>run … --agents</c>: this process drives no load itself. It gives each of N agents every N-th arrival of the plan
/// (so together they send exactly the plan's arrivals, each at its time), starts them at one instant (corrected by
/// each agent's clock offset), collects their finished seconds while they run, merges them (counts add, HdrHistograms
/// merge), judges thresholds and <c>--abort-on-fail</c> on the merged figures, and writes the single-node report with
/// a per-agent table. An agent that stops answering for <c>--agent-timeout</c> is lost: named in the report, and the
/// run fails unless the loss is tolerated.
/// </summary>
internal sealed partial class Coordinator(
    RunSettings settings,
    IReadOnlyList<AgentClient> agents,
    bool tolerateLoss,
    TimeSpan lossAfter,
    Func<Segment, Totals, string?>? phaseGate = null,
    Func<Breaking?>? breaking = null)
{
    private const int UntilWindow = 5;
    private readonly IReadOnlyList<(Phase Phase, bool Measured)> plan = LoadEngine.SegmentsOf(settings);
    private readonly Queue<List<(AgentSecond Second, Totals Slot)>> untilWindow = new();
    private readonly List<Task> pendingPosts = [];
    private int nextGate;
    private IProgressView? progress;
    private OtlpExport? otlp;
    private string? untilEnded;
    private string? gateStopped;
    private static readonly TimeSpan CollectEvery = TimeSpan.FromMilliseconds(500);
    private readonly List<TimelineRow> rows = [];
    private readonly Totals scratch = new(concurrent: false);
    private readonly Totals liveMeasured = new(concurrent: false);
    private readonly Stopwatch progressClock = Stopwatch.StartNew();
    private int nextMerge;
    private int measuredRows;
    private string? aborted;

    public async Task<int> RunAsync()
    {
        using var hardStop = new CancellationTokenSource();
        var ct = hardStop.Token;
        try
        {
            await Task.WhenAll(agents.Select(a => a.MeasureClockAsync(ct))).ConfigureAwait(false);
            await Task.WhenAll(agents.Select((a, i) => a.PrepareAsync(WorkFor(i), ct))).ConfigureAwait(false);
            await WaitReadyAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or AgentSetupException)
        {
            Console.Error.WriteLine("loadgen: " + e.Message);
            await StopAllAsync(new AgentStop("the coordinator gave up before the start", Abort: true)).ConfigureAwait(false);
            return Runner.UsageError;
        }

        var interrupts = 0;
        void Interrupt(string what)
        {
            if (Interlocked.Increment(ref interrupts) == 1)
            {
                Console.Error.WriteLine($"{what}: stopping every agent's schedule, finishing requests in flight and writing the report (again to quit at once)");
                aborted ??= $"interrupted ({what})";
                _ = StopAllAsync(new AgentStop(aborted, Abort: true));
            }
            else
            {
                hardStop.Cancel();
            }
        }

        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            Interrupt("Ctrl-C");
        };
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            Interrupt("SIGTERM");
        });

        var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var startAt = DateTimeOffset.UtcNow.AddSeconds(1);
        Log($"loadgen {settings.Command} with {agents.Count} agents ({string.Join(", ", agents.Select(a => $"{a.Name} offset {a.ClockOffsetMs:0.##} ms"))}): {settings.Target} · {settings.PlanSource} · ~{settings.Plan.ExpectedArrivals:0} arrivals, peak {settings.Plan.PeakRate:0}/s · mix {settings.Mix} · {settings.Connections} connections per agent");
        try
        {
            await Task.WhenAll(agents.Select(a => a.StartAsync(startAt, ct))).ConfigureAwait(false);
            progress = ProgressView.Create(settings.Quiet);
            otlp = settings.Otlp is { } otlpUrl ? new OtlpExport(otlpUrl, settings.OtlpGrpc, settings.Target.ToString(), settings.Command) : null;
            using var ticker = new PeriodicTimer(CollectEvery);
            while (agents.Any(a => a.Lost is null && a.State is not ("done" or "failed")))
            {
                await ticker.WaitForNextTickAsync(ct).ConfigureAwait(false);
                await Task.WhenAll(agents.Where(a => a.Lost is null && a.State is not ("done" or "failed")).Select(a => CollectAsync(a, ct))).ConfigureAwait(false);
                Merge(final: false);
                await CheckAbortAsync().ConfigureAwait(false);
                await JudgePhasesAsync().ConfigureAwait(false);
            }

            await JudgePhasesAsync().ConfigureAwait(false);
            await Task.WhenAll(pendingPosts).ConfigureAwait(false);

            foreach (var a in agents.Where(a => a.Lost is null))
            {
                try
                {
                    a.Result = await a.ResultAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    Lose(a, "no result: " + e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine("loadgen: stopped without a report");
            await StopAllAsync(new AgentStop("the coordinator quit", Abort: true)).ConfigureAwait(false);
            return Runner.Failed;
        }

        Merge(final: true);
        otlp?.Dispose();
        if (progress is not null)
        {
            await progress.DisposeAsync().ConfigureAwait(false);
        }

        self.Refresh();
        var coordinatorCpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var report = BuildReport(startAt, coordinatorCpu);
        var files = ReportWriter.WriteAll(report, settings.OutDir);
        ConsoleSummary.Print(report, files);
        return report.Passed ? Runner.Passed : Runner.Failed;
    }

    private AgentWork WorkFor(int index) => new(
        settings.Target.ToString(),
        settings.ApiKey,
        settings.AdminToken,
        Math.Max(1, (settings.Tenants + agents.Count - 1) / agents.Count),
        settings.Mix.ToString(),
        settings.Connections,
        settings.Concurrency,
        settings.Http2,
        settings.Warmup.TotalSeconds,
        settings.Plan.Phases,
        settings.PlanSource,
        settings.RequestTimeout.TotalSeconds,
        settings.DropAfter.TotalSeconds,
        settings.PingPath,
        settings.TrackCompletion,
        settings.PollInterval.TotalSeconds,
        settings.CompletionTimeout.TotalSeconds,
        index,
        agents.Count,
        settings.Accounts,
        settings.HotShare);

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var statuses = await Task.WhenAll(agents.Select(a => a.StatusAsync(ct))).ConfigureAwait(false);
            for (var i = 0; i < agents.Count; i++)
            {
                if (statuses[i].State == "failed")
                {
                    throw new AgentSetupException($"agent {agents[i].Name}: {statuses[i].Error}");
                }
            }

            if (statuses.All(s => s.State == "ready"))
            {
                return;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new AgentSetupException("the agents were not ready within 120 s: " + string.Join(", ", agents.Select((a, i) => $"{a.Name} {statuses[i].State}")));
            }

            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    private async Task CollectAsync(AgentClient agent, CancellationToken ct)
    {
        try
        {
            if (await agent.CollectAsync(ct).ConfigureAwait(false) == "failed")
            {
                var status = await agent.StatusAsync(ct).ConfigureAwait(false);
                Lose(agent, "failed: " + status.Error);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            if (DateTimeOffset.UtcNow - agent.LastAnswer > lossAfter)
            {
                Lose(agent, $"no answer for {Durations.Format(lossAfter)} ({e.Message})");
            }
        }
    }

    private void Lose(AgentClient agent, string why)
    {
        agent.Lost ??= why;
        Console.Error.WriteLine($"agent {agent.Name} lost: {why}");
    }

    private async Task StopAllAsync(AgentStop stop)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await Task.WhenAll(agents.Where(a => a.Lost is null).Select(async a =>
        {
            try
            {
                await a.StopAsync(stop, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // It is lost or finished; collection says which.
            }
        })).ConfigureAwait(false);
    }

    /// <summary>Merges every second all agents have sent (or, at the end, any agent has) into one timeline row.</summary>
    private void Merge(bool final)
    {
        while (true)
        {
            var k = nextMerge;
            if (!agents.Any(a => a.Has(k)))
            {
                if (final && agents.Any(a => a.MaxPending > k))
                {
                    nextMerge++;
                    continue;
                }

                return;
            }

            if (!final && !agents.All(a => a.Settled(k)))
            {
                return;
            }

            var parts = agents.Select(a => a.Take(k)).OfType<(AgentSecond Second, Totals Slot)>().ToList();
            rows.Add(MergeRow(k, parts));
            JudgeUntil(parts);
            nextMerge++;
        }
    }

    private TimelineRow MergeRow(int k, List<(AgentSecond Second, Totals Slot)> parts)
    {
        // The parts hold only their non-empty buckets: each is added to the second's figures and to the run's.
        var first = parts[0].Second.Row;
        scratch.Reset();
        foreach (var p in parts)
        {
            scratch.Add(p.Slot);
            if (!first.Warmup)
            {
                liveMeasured.Add(p.Slot);
            }
        }

        if (!first.Warmup)
        {
            measuredRows++;
        }

        static double Ms(Latencies h, double p) => h.ValueAtPercentile(p) / 1000.0;
        var s = scratch;
        var row = new TimelineRow(
            k,
            first.Phase,
            first.Warmup,
            first.TargetRate,
            s.Scheduled,
            s.Sent,
            s.Completed,
            s.Errors,
            s.Dropped,
            s.Late,
            Ms(s.Latency, 50),
            Ms(s.Latency, 90),
            Ms(s.Latency, 99),
            s.Latency.Max / 1000.0,
            Ms(s.Service, 50),
            Ms(s.Service, 99),
            s.Completion.TotalCount,
            Ms(s.Completion, 50),
            Ms(s.Completion, 99),
            parts.Max(p => p.Second.Row.CpuPct),
            parts.Max(p => p.Second.Row.WorkingSetMb),
            parts.Sum(p => p.Second.Row.Backlog),
            s.Statuses.Snapshot());
        otlp?.Second(row, s);
        if (progress is not null && progressClock.Elapsed >= TimeSpan.FromMilliseconds(900))
        {
            progressClock.Restart();
            var m = liveMeasured;
            var index = Math.Max(0, plan.Select(p => p.Phase.Name).ToList().IndexOf(row.Phase));
            progress.Show(new ProgressSnapshot(
                k, row.Phase, $"{index + 1}/{plan.Count}", row.TargetRate, m.Sent, m.Completed, m.Errors, m.ErrorRate, m.Dropped, row.Backlog, row,
                agents.Select(a => new AgentProgress(a.Name, a.State, a.SentFromSeconds, a.LastCpuPct, a.Lost)).ToList()));
        }

        return row;
    }

    private async Task CheckAbortAsync()
    {
        if (!settings.AbortOnFail || aborted is not null || measuredRows < settings.AbortGrace.TotalSeconds)
        {
            return;
        }

        foreach (var t in settings.Thresholds)
        {
            if (t.Metric is "rps" or "incomplete" || t.Metric.StartsWith("completion_", StringComparison.Ordinal))
            {
                continue;
            }

            var actual = liveMeasured.Metric(t.Metric, measuredRows);
            if (!t.Holds(actual))
            {
                aborted = $"threshold {t.Expression} failed ({t.Format(actual)}) after {measuredRows}s; abort-on-fail";
                Log(aborted);
                await StopAllAsync(new AgentStop(aborted, Abort: true)).ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>A measured phase every agent has ended: merged, it goes to the phase gate (a stress step's verdict).</summary>
    private async Task JudgePhasesAsync()
    {
        // Once a step failed, the steps the agents began before the stop reached them are not judged.
        while (nextGate < plan.Count && gateStopped is null)
        {
            var j = nextGate;
            if (!plan[j].Measured)
            {
                nextGate++;
                continue;
            }

            var live = agents.Where(a => a.Lost is null).ToList();
            if (live.Count == 0 || !live.All(a => a.Ended(j) is not null))
            {
                return;
            }

            var parts = agents.Select(a => a.Ended(j)).OfType<AgentSegment>().ToList();
            var totals = new Totals(concurrent: false);
            foreach (var p in parts)
            {
                totals.Add(p.Totals);
            }

            nextGate++;
            var span = TimeSpan.FromSeconds(parts.Max(p => p.EndS) - parts.Min(p => p.StartS));
            var segment = new Segment(plan[j].Phase, measured: true) { StartTimestamp = 0, EndTimestamp = Clock.FromSpan(span) };
            if (phaseGate?.Invoke(segment, totals) is { } reason)
            {
                gateStopped = reason;
                await StopAllAsync(new AgentStop(reason, Abort: false)).ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>"until" on the merged last five seconds of its phase: when it holds, every agent ends the phase (and the run).</summary>
    private void JudgeUntil(List<(AgentSecond Second, Totals Slot)> parts)
    {
        var row = parts[0].Second.Row;
        var phase = plan.Select(p => p.Phase).FirstOrDefault(p => p.Name == row.Phase && p.Until is not null);
        if (phase is null || untilEnded is not null)
        {
            untilWindow.Clear();
            return;
        }

        untilWindow.Enqueue(parts);
        while (untilWindow.Count > UntilWindow)
        {
            untilWindow.Dequeue();
        }

        if (untilWindow.Count < UntilWindow || untilWindow.Any(w => w[0].Second.Row.Phase != phase.Name))
        {
            return;
        }

        var sum = new Totals(concurrent: false);
        foreach (var w in untilWindow)
        {
            foreach (var p in w)
            {
                sum.Add(p.Slot);
            }
        }

        var threshold = Thresholds.Threshold.Parse(phase.Until!);
        var actual = sum.Metric(threshold.Metric, UntilWindow);
        if (threshold.Holds(actual))
        {
            untilEnded = $"{phase.Until} over the last {UntilWindow}s ({threshold.Format(actual)}) at {row.TargetRate:0}/s";
            Console.Error.WriteLine($"breaking point: {untilEnded}");
            var reason = untilEnded;
            pendingPosts.Add(Task.WhenAll(agents.Where(a => a.Lost is null).Select(async a =>
            {
                try
                {
                    await a.EndPhaseAsync(reason, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Collection finds out whether it is lost.
                }
            })));
        }
    }

    private void Log(string message)
    {
        if (!settings.Quiet)
        {
            Console.Error.WriteLine(message);
        }
    }

    private sealed class AgentSetupException(string message) : Exception(message);
}
