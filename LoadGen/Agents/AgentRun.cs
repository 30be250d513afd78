using System.Diagnostics;
using FinCore.LoadGen.Engine;
using FinCore.LoadGen.Plans;
using FinCore.LoadGen.Reports;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Agents;

/// <summary>
/// An agent's one run at a time: prepared from a coordinator's <see cref="AgentWork"/> (target checked, tenants set
/// up), started at the instant it is given, its finished seconds kept for the coordinator to collect, then its result.
/// </summary>
internal sealed class AgentRun(string? dumpLatencies)
{
    private readonly Lock gate = new();
    private readonly List<AgentSecond> seconds = [];
    private readonly List<AgentSegment> ended = [];
    private int finished;
    private string state = "idle";
    private string? error;
    private RunSettings? settings;
    private FinCoreApi? api;
    private LoadEngine? engine;
    private AgentResult? result;
    private CancellationTokenSource hardStop = new();

    public AgentStatus Status()
    {
        lock (gate)
        {
            return new AgentStatus(state, DateTimeOffset.UtcNow, error, engine?.Measured.Sent ?? 0, finished);
        }
    }

    public AgentSeconds Seconds(int from, int segmentsFrom)
    {
        lock (gate)
        {
            // Asking from k says seconds before k arrived: they are let go, so a long run's memory stays flat.
            seconds.RemoveAll(s => s.T < from);
            return new AgentSeconds(state, seconds.ToList(), ended.Where(s => s.Index >= segmentsFrom).ToList());
        }
    }

    /// <summary>The coordinator judged a phase's "until" on the merged figures: end it here too.</summary>
    public void EndPhase(string reason) => engine?.EndCurrentPhase(reason);

    public AgentResult? Result()
    {
        lock (gate)
        {
            return state == "done" ? result : null;
        }
    }

    public string? Prepare(AgentWork work)
    {
        RunSettings prepared;
        try
        {
            prepared = ToSettings(work, dumpLatencies);
        }
        catch (FormatException e)
        {
            return e.Message;
        }

        lock (gate)
        {
            if (state is "preparing" or "ready" or "running")
            {
                return $"busy ({state})";
            }

            state = "preparing";
            error = null;
            seconds.Clear();
            ended.Clear();
            finished = 0;
            result = null;
            engine = null;
            settings = prepared;
            hardStop = new CancellationTokenSource();
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var connected = await FinCoreApi.ConnectAsync(prepared, _ => { }, hardStop.Token).ConfigureAwait(false);
                lock (gate)
                {
                    api = connected;
                    state = "ready";
                }
            }
            catch (Exception e) when (e is SetupException or HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                Fail($"cannot set up against {prepared.Target}: {e.Message}");
            }
        });
        return null;
    }

    public string? Start(AgentStart start)
    {
        LoadEngine run;
        lock (gate)
        {
            if (state != "ready" || api is null || settings is null)
            {
                return $"not prepared ({state})";
            }

            state = "running";
            // Phases end on the coordinator's word ("until", stress steps), judged on every agent's figures.
            LoadEngine? self = null;
            run = self = engine = new LoadEngine(settings, api, _ => { }, (segment, totals) =>
            {
                var e = self!;
                var index = e.Segments.ToList().IndexOf(segment);
                var end = new AgentSegment(index, Clock.Seconds(segment.StartTimestamp - e.StartTimestamp), Clock.Seconds(segment.EndTimestamp - e.StartTimestamp), segment.EndedBy, totals.Encode());
                lock (gate)
                {
                    ended.Add(end);
                }

                return null;
            });
            run.SecondFinalized = (k, row, slot) =>
            {
                var second = new AgentSecond(k, row, slot.Encode());
                lock (gate)
                {
                    seconds.Add(second);
                    finished = k + 1;
                }
            };
        }

        _ = Task.Run(() => RunAsync(run, start.At));
        return null;
    }

    public void Stop(AgentStop stop)
    {
        lock (gate)
        {
            if (state is "preparing" or "ready")
            {
                api?.Dispose();
                api = null;
                state = "idle";
                return;
            }
        }

        engine?.Stop(stop.Reason, stop.Abort);
    }

    private async Task RunAsync(LoadEngine run, DateTimeOffset at)
    {
        try
        {
            // Start at the common instant: sleep most of the way, then yield until it.
            var wait = at - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.FromMilliseconds(20))
            {
                await Task.Delay(wait - TimeSpan.FromMilliseconds(15)).ConfigureAwait(false);
            }

            while (DateTimeOffset.UtcNow < at)
            {
                Thread.Yield();
            }

            var timeline = await run.RunAsync(hardStop.Token).ConfigureAwait(false);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - timeline.StartCpu;
            var figures = RunFigures.FromEngine(run, timeline, cpu);
            var cpuRows = timeline.Rows.Where(r => r.CpuPct > 0).ToList();
            var done = new AgentResult(
                figures.Measured.Encode(),
                figures.Segments.Select((s, i) => new AgentSegment(i, s.StartS, s.EndS, s.EndedBy, s.Totals.Encode())).ToList(),
                figures.MeasuredSeconds,
                figures.SentAll,
                cpu.TotalSeconds,
                cpuRows.Count == 0 ? 0 : Math.Round(cpuRows.Average(r => r.CpuPct), 1),
                figures.PeakWorkingSetMb,
                figures.PeakBacklog,
                figures.Aborted);
            lock (gate)
            {
                result = done;
                state = "done";
                api?.Dispose();
                api = null;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or InvalidOperationException)
        {
            Fail("run failed: " + e.Message);
        }
    }

    private void Fail(string why)
    {
        lock (gate)
        {
            error = why;
            state = "failed";
            api?.Dispose();
            api = null;
        }
    }

    private static RunSettings ToSettings(AgentWork w, string? dump)
    {
        if (!Uri.TryCreate(w.Target, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
        {
            throw new FormatException("the target must be an http(s) URL");
        }

        if (w.Phases.Count == 0 || w.ShareCount < 1 || w.ShareIndex < 0 || w.ShareIndex >= w.ShareCount || w.Connections < 1 || w.Concurrency < 1)
        {
            throw new FormatException("the work has no phases, a bad share or no connections");
        }

        return new RunSettings
        {
            Target = target,
            ApiKey = w.ApiKey,
            AdminToken = w.AdminToken,
            Tenants = w.Tenants,
            OutDir = Path.GetTempPath(),
            Plan = new LoadPlan(w.Phases),
            PlanSource = w.PlanSource,
            Warmup = TimeSpan.FromSeconds(w.WarmupS),
            Mix = Mix.Parse(w.Mix),
            Connections = w.Connections,
            Concurrency = w.Concurrency,
            Http2 = w.Http2,
            TrackCompletion = w.TrackCompletion,
            PollInterval = TimeSpan.FromSeconds(w.PollIntervalS),
            CompletionTimeout = TimeSpan.FromSeconds(w.CompletionTimeoutS),
            RequestTimeout = TimeSpan.FromSeconds(w.RequestTimeoutS),
            DropAfter = TimeSpan.FromSeconds(w.DropAfterS),
            PingPath = w.PingPath,
            Accounts = w.Accounts,
            HotShare = w.HotShare,
            Quiet = true,
            JudgeUntil = false,
            ShareIndex = w.ShareIndex,
            ShareCount = w.ShareCount,
            DumpLatencies = dump,
            Command = "agent",
        };
    }
}
