using System.Collections.Concurrent;
using System.Diagnostics;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Engine;

/// <summary>
/// <c>--track-completion</c>: follows every acknowledged charge until it is terminal (or dead-lettered). The latency
/// recorded is the charge's own <c>updated_at − created_at</c> at its terminal status, so how often it looks costs
/// requests, not accuracy. It looks in two ways, so that measuring adds little load to the system measured:
/// <list type="bullet">
/// <item>A sweep, every <see cref="RunSettings.PollInterval"/>: per tenant, the list of charges created in the next
/// slice of time (by the server's clock, up to one poll interval ago), a hundred a request. A charge the sweep finds
/// terminal is done: at a steady rate, one list request covers a hundred charges.</item>
/// <item>A charge the sweep found still open (a PSP outage, a retry), or that it could not place (no
/// <c>created_at</c> in its 202, a 202 slower than the sweep), is read by id every poll interval until it is
/// terminal.</item>
/// </list>
/// </summary>
internal sealed class CompletionTracker(FinCoreApi api, RunSettings settings, LoadEngine engine)
{
    private const int MaxPollsInFlight = 32;
    private readonly ConcurrentQueue<AcceptedCharge> incoming = new();
    private readonly Dictionary<TenantContext, TenantSweep> sweeps = new(ReferenceEqualityComparer.Instance);
    private readonly List<Pending> stragglers = [];
    private readonly CancellationTokenSource stop = new();
    private Task loop = Task.CompletedTask;
    private int outstanding;
    private long listRequests;
    private long readRequests;

    /// <summary>The least the server's clock is ahead of ours: created_at minus our time when its 202 was handled.</summary>
    private TimeSpan serverAhead = TimeSpan.MinValue;

    /// <summary>List requests the sweep made.</summary>
    public long ListRequests => Interlocked.Read(ref listRequests);

    /// <summary>Charges read by id (stragglers).</summary>
    public long ReadRequests => Interlocked.Read(ref readRequests);

    public int Outstanding => Volatile.Read(ref outstanding) + incoming.Count;

    public void Start(CancellationToken hardStop) => loop = Task.Run(() => TrackLoopAsync(hardStop), hardStop);

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
        engine.Measured.TrackingLists = ListRequests;
        engine.Measured.TrackingReads = ReadRequests;
    }

    private async Task TrackLoopAsync(CancellationToken hardStop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(hardStop, stop.Token);
        var ct = linked.Token;
        var interval = Clock.FromSpan(settings.PollInterval);
        var nextSweep = Clock.Now + interval;
        var due = new List<Pending>();
        while (!ct.IsCancellationRequested)
        {
            TakeIncoming(interval);
            var now = Clock.Now;
            if (now >= nextSweep)
            {
                nextSweep = now + interval;
                await SweepAsync(interval, ct).ConfigureAwait(false);
            }

            due.Clear();
            now = Clock.Now;
            foreach (var p in stragglers)
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
                    Interlocked.Increment(ref readRequests);
                    var view = await api.ReadChargeAsync(p.Charge.Tenant, p.Charge.Id, c).ConfigureAwait(false);
                    if (view is { IsTerminal: true })
                    {
                        Complete(p, view);
                    }
                    else
                    {
                        p.NextPoll = Clock.Now + interval;
                    }
                }).ConfigureAwait(false);
                stragglers.RemoveAll(static p => p.Done);
            }
            else
            {
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }
    }

    private void TakeIncoming(long interval)
    {
        while (incoming.TryDequeue(out var c))
        {
            Interlocked.Increment(ref outstanding);
            var p = new Pending(c) { NextPoll = c.AcceptedTimestamp + interval };
            if (c.CreatedAt is not { } created)
            {
                stragglers.Add(p); // the 202 did not say when: read it by id
                continue;
            }

            var ahead = created - DateTimeOffset.UtcNow;
            if (ahead > serverAhead)
            {
                serverAhead = ahead;
            }

            if (!sweeps.TryGetValue(c.Tenant, out var sweep))
            {
                // A little before the first charge: the server's clock and ours disagree by the 202's latency.
                sweeps[c.Tenant] = sweep = new TenantSweep(created - TimeSpan.FromSeconds(1));
            }

            if (created < sweep.SweptUntil)
            {
                stragglers.Add(p); // its 202 arrived after the sweep passed its time
            }
            else
            {
                sweep.Pending[c.Id] = p;
            }
        }
    }

    /// <summary>For each tenant with charges waiting, lists the charges created since its last sweep up to one poll
    /// interval ago (server time), and settles or hands on every charge of ours it finds.</summary>
    private async Task SweepAsync(long interval, CancellationToken ct)
    {
        if (serverAhead == TimeSpan.MinValue)
        {
            return;
        }

        var until = DateTimeOffset.UtcNow + serverAhead - settings.PollInterval;
        foreach (var (tenant, sweep) in sweeps)
        {
            if (sweep.Pending.Count == 0 || until <= sweep.SweptUntil)
            {
                continue;
            }

            string? after = null;
            var complete = true;
            while (!ct.IsCancellationRequested)
            {
                Interlocked.Increment(ref listRequests);
                var page = await api.ListChargesAsync(tenant, sweep.SweptUntil, until, after, ct).ConfigureAwait(false);
                if (page is null)
                {
                    complete = false; // tried again at the next sweep, from the same point
                    break;
                }

                foreach (var (id, view) in page.Rows)
                {
                    if (!sweep.Pending.Remove(id, out var p))
                    {
                        continue; // not one of this run's measured charges
                    }

                    if (view.IsTerminal)
                    {
                        Complete(p, view);
                    }
                    else
                    {
                        p.NextPoll = Clock.Now + interval;
                        stragglers.Add(p);
                    }
                }

                if (!page.HasMore || page.Rows.Count == 0)
                {
                    break;
                }

                after = page.Rows[^1].Id;
            }

            if (!complete || ct.IsCancellationRequested)
            {
                continue;
            }

            sweep.SweptUntil = until;

            // Not listed though created before this slice's end (by our reading of its time; the server stores
            // microseconds): read by id. A millisecond's margin leaves boundary cases to the next slice.
            var missed = sweep.Pending.Values.Where(p => p.Charge.CreatedAt < until - TimeSpan.FromMilliseconds(1)).ToList();
            foreach (var p in missed)
            {
                sweep.Pending.Remove(p.Charge.Id);
                p.NextPoll = Clock.Now;
                stragglers.Add(p);
            }
        }
    }

    private void Complete(Pending p, ChargeView view)
    {
        var micros = (long)(view.UpdatedAt - view.CreatedAt).TotalMicroseconds;
        engine.RecordCompletion(micros, view.Status, Clock.Now);
        p.Done = true;
        Interlocked.Decrement(ref outstanding);
    }

    private sealed class TenantSweep(DateTimeOffset start)
    {
        /// <summary>Charges created before this (server time) have been listed.</summary>
        public DateTimeOffset SweptUntil { get; set; } = start;

        public Dictionary<string, Pending> Pending { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Pending(AcceptedCharge charge)
    {
        public AcceptedCharge Charge { get; } = charge;

        public long NextPoll { get; set; }

        public bool Done { get; set; }
    }
}
