using System.Collections.Concurrent;
using System.Diagnostics;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Engine;

/// <summary>
/// <c>--track-completion</c>: follows every acknowledged charge until it is terminal (or dead-lettered) by polling
/// <c>GET /v1/charges/{id}</c> every <see cref="RunSettings.PollInterval"/>. The latency recorded is the charge's
/// own <c>updated_at − created_at</c> at its terminal status, so the poll interval costs requests, not accuracy.
/// </summary>
internal sealed class CompletionTracker(FinCoreApi api, RunSettings settings, LoadEngine engine)
{
    private const int MaxPollsInFlight = 32;
    private readonly ConcurrentQueue<AcceptedCharge> incoming = new();
    private readonly List<Pending> pending = [];
    private readonly CancellationTokenSource stop = new();
    private Task loop = Task.CompletedTask;
    private long polls;

    public long Polls => Interlocked.Read(ref polls);

    public int Outstanding => pending.Count + incoming.Count;

    public void Start(CancellationToken hardStop) => loop = Task.Run(() => PollLoopAsync(hardStop), hardStop);

    public void Add(AcceptedCharge charge) => incoming.Enqueue(charge);

    /// <summary>Waits until every tracked charge is terminal or the completion timeout passes; the rest are incomplete.</summary>
    public async Task DrainAsync(Action tick, CancellationToken hardStop)
    {
        var deadline = Stopwatch.StartNew();
        while (Outstanding > 0 && deadline.Elapsed < settings.CompletionTimeout && !hardStop.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), hardStop).ConfigureAwait(false);
            tick();
        }

        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        engine.Measured.Incomplete = Outstanding;
    }

    private async Task PollLoopAsync(CancellationToken hardStop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hardStop, stop.Token);
        var ct = linked.Token;
        var interval = Clock.FromSpan(settings.PollInterval);
        var due = new List<Pending>();
        while (!ct.IsCancellationRequested)
        {
            while (incoming.TryDequeue(out var c))
            {
                pending.Add(new Pending(c) { NextPoll = c.AcceptedTimestamp + interval });
            }

            var now = Clock.Now;
            due.Clear();
            foreach (var p in pending)
            {
                if (p.NextPoll <= now)
                {
                    due.Add(p);
                }
            }

            if (due.Count > 0)
            {
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = MaxPollsInFlight, CancellationToken = ct }, async (p, c) =>
                {
                    Interlocked.Increment(ref polls);
                    var view = await api.ReadChargeAsync(p.Charge.Tenant, p.Charge.Id, c).ConfigureAwait(false);
                    if (view is { IsTerminal: true })
                    {
                        var micros = (long)(view.UpdatedAt - view.CreatedAt).TotalMicroseconds;
                        engine.RecordCompletion(micros, view.Status, Clock.Now);
                        p.Done = true;
                    }
                    else
                    {
                        p.NextPoll = Clock.Now + interval;
                    }
                }).ConfigureAwait(false);
                pending.RemoveAll(static p => p.Done);
            }
            else
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }
    }

    private sealed class Pending(AcceptedCharge charge)
    {
        public AcceptedCharge Charge { get; } = charge;

        public long NextPoll { get; set; }

        public bool Done { get; set; }
    }
}
