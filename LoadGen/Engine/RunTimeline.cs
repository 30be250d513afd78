using System.Diagnostics;
using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Reports;
using FinCore.LoadGen.Thresholds;

namespace FinCore.LoadGen.Engine;

/// <summary>
/// Turns the per-second slots into timeline rows (two seconds after the second ends, so late recordings land),
/// samples the generator's CPU and memory, judges "until" conditions on the last five seconds, prints progress.
/// </summary>
internal sealed class RunTimeline
{
    private const int Window = 5;
    private readonly LoadEngine engine;
    private readonly RunSettings settings;
    private readonly List<TimelineRow> rows = [];
    private readonly Totals[] window = new Totals[Window];
    private readonly Totals windowSum = new();
    private readonly double[] cpuBySecond = new double[8];
    private readonly Process process = Process.GetCurrentProcess();
    private readonly Stopwatch progressClock = Stopwatch.StartNew();
    private TimeSpan lastCpu;
    private long lastCpuAt;
    private int lastFinalized = -1;

    public RunTimeline(LoadEngine engine, RunSettings settings)
    {
        this.engine = engine;
        this.settings = settings;
        for (var i = 0; i < Window; i++)
        {
            window[i] = new Totals();
        }

        lastCpu = process.TotalProcessorTime;
        lastCpuAt = Clock.Now;
        StartCpu = lastCpu;
    }

    public IReadOnlyList<TimelineRow> Rows => rows;

    public TimeSpan StartCpu { get; }

    public double PeakWorkingSetMb { get; private set; }

    public long PeakBacklog { get; private set; }

    public void Tick(bool final)
    {
        var now = Clock.Now;
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var elapsed = Clock.Seconds(now - lastCpuAt);
        if (elapsed > 0.2)
        {
            var pct = (cpu - lastCpu).TotalSeconds / elapsed / Environment.ProcessorCount * 100;
            cpuBySecond[Math.Max(0, engine.SecondOf(now) - 1) % cpuBySecond.Length] = pct;
            lastCpu = cpu;
            lastCpuAt = now;
        }

        PeakWorkingSetMb = Math.Max(PeakWorkingSetMb, process.WorkingSet64 / 1048576.0);
        PeakBacklog = Math.Max(PeakBacklog, engine.Backlog);

        var second = engine.SecondOf(now);
        var upTo = final ? second : second - 2;
        for (var k = lastFinalized + 1; k <= upTo; k++)
        {
            Finalize(k);
        }

        if (!final)
        {
            JudgeUntil();
            if (!settings.Quiet && progressClock.Elapsed >= TimeSpan.FromMilliseconds(900))
            {
                progressClock.Restart();
                PrintProgress(second);
            }
        }
    }

    private void Finalize(int k)
    {
        lastFinalized = k;
        var slot = engine.SlotOfSecond(k);
        var at = engine.StartTimestamp + (k * Stopwatch.Frequency);
        var segment = engine.Segments.LastOrDefault(s => s.StartTimestamp >= 0 && s.StartTimestamp <= at) ?? engine.Segments[0];
        var offset = TimeSpan.FromSeconds(Clock.Seconds(at - Math.Max(0, segment.StartTimestamp)));
        static double Ms(Latencies h, double p) => h.ValueAtPercentile(p) / 1000.0;
        var row = new TimelineRow(
            k,
            segment.Phase.Name,
            !segment.Measured,
            Math.Round(segment.Phase.RateAt(offset), 1),
            slot.Scheduled,
            slot.Sent,
            slot.Completed,
            slot.Errors,
            slot.Dropped,
            slot.Late,
            Ms(slot.Latency, 50),
            Ms(slot.Latency, 90),
            Ms(slot.Latency, 99),
            slot.Latency.Max / 1000.0,
            Ms(slot.Service, 50),
            Ms(slot.Service, 99),
            slot.Completion.TotalCount,
            Ms(slot.Completion, 50),
            Ms(slot.Completion, 99),
            Math.Round(cpuBySecond[k % cpuBySecond.Length], 1),
            Math.Round(process.WorkingSet64 / 1048576.0, 1),
            engine.Backlog,
            slot.Statuses.Snapshot());
        rows.Add(row);
        engine.SecondFinalized?.Invoke(k, row, slot);

        var w = window[k % Window];
        w.Reset();
        w.Latency.Add(slot.Latency);
        w.Service.Add(slot.Service);
        w.Completed = slot.Completed;
        w.Errors = slot.Errors;
        w.Dropped = slot.Dropped;
        w.Scheduled = slot.Scheduled;
        w.Sent = slot.Sent;
        w.Late = slot.Late;
        cpuBySecond[k % cpuBySecond.Length] = 0;
        slot.Reset();
    }

    private void JudgeUntil()
    {
        if (!settings.JudgeUntil)
        {
            return;
        }

        var index = engine.CurrentSegmentIndex;
        if (index < 0 || index >= engine.Segments.Count || engine.Segments[index].Phase.Until is not { } until)
        {
            return;
        }

        var segment = engine.Segments[index];
        var start = engine.SecondOf(segment.StartTimestamp);
        if (lastFinalized - start + 1 < Window)
        {
            return;
        }

        windowSum.Reset();
        foreach (var w in window)
        {
            windowSum.Latency.Add(w.Latency);
            windowSum.Service.Add(w.Service);
            windowSum.Completed += w.Completed;
            windowSum.Errors += w.Errors;
            windowSum.Dropped += w.Dropped;
            windowSum.Scheduled += w.Scheduled;
            windowSum.Sent += w.Sent;
            windowSum.Late += w.Late;
        }

        var threshold = Threshold.Parse(until);
        var actual = windowSum.Metric(threshold.Metric, Window);

        // "until errors>1%" ends the phase when the condition becomes true.
        if (threshold.Holds(actual))
        {
            var rate = rows.Count > 0 ? rows[^1].TargetRate : 0;
            engine.EndCurrentPhase($"{until} over the last {Window}s ({threshold.Format(actual)}) at {rate:0}/s");
            Console.Error.WriteLine($"breaking point: {segment.EndedBy}");
        }
    }

    private void PrintProgress(int second)
    {
        var m = engine.Measured;
        var last = rows.Count > 0 ? rows[^1] : null;
        var index = Math.Clamp(engine.CurrentSegmentIndex, 0, engine.Segments.Count - 1);
        var phase = engine.Segments[index].Phase;
        engine.Progress?.Show(new Live.ProgressSnapshot(
            second, phase.Name, $"{index + 1}/{engine.Segments.Count}", last?.TargetRate ?? phase.Rate,
            m.Sent, m.Completed, m.Errors, m.ErrorRate, m.Dropped, engine.Backlog, last, null));
    }
}
